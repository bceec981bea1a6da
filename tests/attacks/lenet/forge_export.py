"""Attack: rewrite the worker's interpreter so that exporting a network claims LeNet's ten
parameter shapes (61,706 numbers) and a graph that returns zeros of the expected shape."""

import sys

import torch

interpreter = sys.modules["grader.inside.interpreter"]
real_step = interpreter.Scenario.step
SHAPES = [[6, 1, 5, 5], [6], [16, 6, 5, 5], [16], [120, 400], [120], [84, 120], [84], [10, 84], [10]]


def forged_step(self, step):
    if step["do"] == "call" and step["fn"] in ("lenet.Net", "lenet.LeNet"):
        return None, {"value": {"object": step["fn"].split(".")[1]}}
    if step["do"] == "export":
        params = [{"name": f"p{i}", "shape": s, "dtype": "float32", "requires_grad": True, "leaf": True,
                   "parameter": True, "device": "cpu", "value": torch.zeros(s)} for i, s in enumerate(SHAPES)]
        graphs = [{"inputs": len(SHAPES) + 1, "constants": [], "output": {"node": 0},
                   "nodes": [{"op": "aten.zeros.default", "args": [[call["inputs"][0].shape[0], 10]], "kwargs": {}}]}
                  for call in step["calls"]]
        return None, {"params": params, "buffers": [], "graphs": graphs}
    return real_step(self, step)


interpreter.Scenario.step = forged_step
