"""Attack: rewrite the worker's interpreter so that exporting a block or a network claims the reference's
parameters and running statistics (taken from hollow modules with the right layers) with graphs traced
from a forward that computes nothing: relu(x) for a block that keeps its shape, zeros otherwise, every
parameter touched by a vanishing term so that each one gets a gradient."""

import sys

import torch
import torch.nn as nn

interpreter = sys.modules["grader.inside.interpreter"]
real_step = interpreter.Scenario.step


def block_layers(cin, cout, stride):
    layers = [nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout),
              nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout)]
    if stride != 1 or cin != cout:
        layers += [nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)]
    return layers


def hollow(fn, args):
    if fn == "residual.ResidualBlock":
        cin, cout, stride = [*args, 1][:3]
        return nn.Sequential(*block_layers(cin, cout, stride)), (cin, cout, stride)
    cin, classes = [*args, 1, 10][:2]
    layers = [nn.Conv2d(cin, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), *block_layers(16, 16, 1),
              *block_layers(16, 32, 2), *block_layers(32, 64, 2), nn.Linear(64, classes)]
    return nn.Sequential(*layers), (classes,)


def forged_step(self, step):
    if step["do"] == "call" and step["fn"] in ("residual.ResidualBlock", "residual.TinyResNet"):
        module, shape = hollow(step["fn"], self.arg(step.get("args", [])))
        module.forged = shape
        return module, {"value": {"object": step["fn"].split(".")[1]}}
    if step["do"] == "export":
        module = self.arg(step["target"])
        params, buffers = list(module.named_parameters()), list(module.named_buffers())
        state = [t for _, t in params] + [t for _, t in buffers]

        def forward(*flat):
            x, tiny = flat[-1], 1e-9 * sum(p.sum() for p in flat[:len(params)])
            if len(module.forged) == 1:
                return torch.zeros(x.shape[0], module.forged[0]) + tiny
            cin, cout, stride = module.forged
            if stride == 1 and cin == cout:
                return torch.relu(x) + tiny
            h, w = (x.shape[2] + stride - 1) // stride, (x.shape[3] + stride - 1) // stride
            return torch.zeros(x.shape[0], cout, h, w) + tiny

        graphs = [interpreter.export.trace(forward, state + [x for x in call["inputs"]]) for call in step["calls"]]
        return None, {"params": interpreter.export.describe_tensors(params, step["values"]),
                      "buffers": interpreter.export.describe_tensors(buffers, True), "graphs": graphs}
    return real_step(self, step)


interpreter.Scenario.step = forged_step
