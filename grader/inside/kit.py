"""The kit's objects, built from plain-data specs: what a hidden check hands to the student's code.

Both sides build from the same spec: the worker, to call the student's code with it, and the
trusted grader, to compute what the right code does with the same object. A spec is plain
data (dicts, lists, numbers, strings and tensors), so it crosses the channel as it is.

Nothing here answers an exercise: these are the networks, loaders, losses and optimizers a
student's function is *given*.

Module specs::

    {"kind": "module",
     "modules": {"conv": ["Conv2d", [1, 4, 3], {}], "block": {"kind": "module", ...}, ...},
     "forward": [["call", "conv"], ["fn", "relu"], ["call", "heads.0"], ...],   # default: in order
     "weights": [tensor, ...],      # replace parameters(), in order (optional)
     "frozen": [bool, ...],         # requires_grad = not frozen, in parameters() order (optional)
     "eval": ["path", ...],         # submodules put in eval mode ("" is the whole model), in this order
     "train": ["path", ...],        # then these put back in training mode
     "hooks": ["path", ...]}        # a forward hook (it notes whether autograd is on in .calls) and a
                                    # no-op forward pre-hook on each

A layer is [class name, args, kwargs] for a class in LAYERS, ["Sequential", [layer, ...]],
["ModuleList", [layer, ...]] or a nested module spec.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

SCRATCH = Path("/tmp")  # where kit paths point: the sandbox's own /tmp


class Scale(nn.Module):
    """A custom leaf with a parameter of its own: x * weight, one factor per channel."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.linspace(0.5, 1.5, channels).reshape(1, channels, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.weight


class Lookup(nn.Module):
    """Fixed scores: row i for an input holding the number i. It reads the rows of `train_scores` in
    training mode (a network whose predictions change with its mode, as dropout's do) and those of
    `grad_scores` in eval mode with autograd on: only an evaluation in eval mode and without autograd
    (torch.no_grad() or torch.inference_mode()) sees `scores`."""

    def __init__(self, scores: torch.Tensor, train_scores: torch.Tensor | None = None,
                 grad_scores: torch.Tensor | None = None) -> None:
        super().__init__()
        self.scores = nn.Parameter(scores.clone())
        self.train_scores = nn.Parameter((scores if train_scores is None else train_scores).clone())
        self.grad_scores = nn.Parameter((scores if grad_scores is None else grad_scores).clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            table = self.train_scores
        else:
            table = self.grad_scores if torch.is_grad_enabled() else self.scores
        return table[x.reshape(-1).long()] * 1.0


LAYERS: dict[str, Callable[..., nn.Module]] = {
    "Conv2d": nn.Conv2d, "Linear": nn.Linear, "BatchNorm2d": nn.BatchNorm2d, "BatchNorm1d": nn.BatchNorm1d,
    "ReLU": nn.ReLU, "LeakyReLU": nn.LeakyReLU, "Tanh": nn.Tanh, "Sigmoid": nn.Sigmoid, "MaxPool2d": nn.MaxPool2d,
    "AvgPool2d": nn.AvgPool2d, "AdaptiveAvgPool2d": nn.AdaptiveAvgPool2d, "Flatten": nn.Flatten, "Dropout": nn.Dropout,
    "Identity": nn.Identity, "Scale": Scale, "Lookup": Lookup,
}
FUNCTIONS: dict[str, Callable[..., torch.Tensor]] = {
    "relu": F.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "flatten": lambda x: torch.flatten(x, 1),
    "max_pool2d": F.max_pool2d,
}


class Program(nn.Module):
    """A kit network: named submodules and a forward program over them (in order by default)."""

    def __init__(self, modules: dict[str, nn.Module], program: list[list[Any]] | None) -> None:
        super().__init__()
        for name, module in modules.items():
            self.add_module(name, module)
        self.program = program or [["call", name] for name in modules]
        self.calls: list[list[Any]] = []  # what the kit's own hooks noted

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for step in self.program:
            if step[0] == "call":
                x = self.get_submodule(step[1])(x)
            elif step[0] == "fn":
                x = FUNCTIONS[step[1]](x, *step[2:])
            else:
                raise ValueError(f"unknown program step {step!r}")
        return x


def layer(spec: Any) -> nn.Module:
    """One layer (or container) from its spec."""
    if isinstance(spec, dict):
        return module(spec)
    name, args, *rest = spec
    kwargs = rest[0] if rest else {}
    if name == "Sequential":
        return nn.Sequential(*(layer(s) for s in args))
    if name == "ModuleList":
        return nn.ModuleList([layer(s) for s in args])
    return LAYERS[name](*[tuple(a) if isinstance(a, list) else a for a in args],
                        **{k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()})


def module(spec: dict[str, Any]) -> nn.Module:
    """A kit network from its spec (see the module docstring)."""
    net = Program({name: layer(s) for name, s in spec["modules"].items()}, spec.get("forward"))
    params = list(net.parameters())
    if spec.get("weights") is not None:
        weights = spec["weights"]
        if len(weights) != len(params):
            raise ValueError(f"{len(weights)} weights for {len(params)} parameters")
        with torch.no_grad():
            for p, w in zip(params, weights):
                p.copy_(w)
    for p, frozen in zip(params, spec.get("frozen") or []):
        p.requires_grad_(not frozen)
    for path in spec.get("eval") or []:
        net.get_submodule(path).eval()
    for path in spec.get("train") or []:
        net.get_submodule(path).train()
    for path in spec.get("hooks") or []:
        target = net.get_submodule(path)
        target.register_forward_hook(lambda *_: net.calls.append(["hook", torch.is_grad_enabled()]))
        target.register_forward_pre_hook(lambda *_: None)
    return net


def scaled_weights(shapes: list[list[int]], generator: torch.Generator) -> list[torch.Tensor]:
    """Random weights for parameters of these shapes: 1/sqrt(fan_in) for weights, 0.2 for biases, so that
    activations stay of order one whatever the size."""
    out = []
    for shape in shapes:
        scale = 1.0 / math.sqrt(math.prod(shape[1:])) if len(shape) > 1 else 0.2
        out.append(torch.randn(shape, generator=generator) * scale)
    return out


CRITERIA: dict[str, Callable[[], Any]] = {
    "mse": nn.MSELoss, "ce": nn.CrossEntropyLoss, "ce_fn": lambda: F.cross_entropy,
    "mse_sum": lambda: nn.MSELoss(reduction="sum"),
}
OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "SGD": torch.optim.SGD, "Adam": torch.optim.Adam, "Adagrad": torch.optim.Adagrad,
}


def build(spec: Any, refs: dict[str, Any] | None = None) -> Any:
    """A kit object from its spec: {"kind": ..., ...}. `refs` resolves {"ref": name} inside it."""
    kind = spec["kind"]
    if kind == "module":
        return module(spec)
    if kind == "layer":  # one layer on its own: a model without children
        return layer(spec["spec"])
    if kind == "loader":
        generator = torch.Generator().manual_seed(spec["seed"]) if spec.get("seed") is not None else None
        return DataLoader(TensorDataset(*spec["tensors"]), batch_size=spec["batch_size"],
                          shuffle=bool(spec.get("shuffle")), generator=generator)
    if kind == "dataset":
        return TensorDataset(*spec["tensors"])
    if kind == "criterion":
        return CRITERIA[spec["name"]]()
    if kind == "optimizer":
        net = (refs or {})[spec["params"]["ref"]]
        params = [p for p in net.parameters() if p.requires_grad or not spec.get("trainable_only", True)]
        return OPTIMIZERS[spec["type"]](params, **spec.get("options", {}))
    if kind == "image":
        from PIL import Image

        return Image.fromarray(spec["pixels"].numpy())  # a 2-d uint8 array is an "L" (grey) image
    if kind == "mnist":
        from _kit.datasets import mnist

        transform = (refs or {})[spec["transform"]["ref"]] if spec.get("transform") else None
        return mnist(train=spec["train"], transform=transform)
    if kind == "path":
        path = SCRATCH / Path(spec["name"]).name
        path.unlink(missing_ok=True)
        return path if spec.get("as_path", True) else str(path)
    if kind == "device":
        return torch.device(spec["name"])
    if kind == "tuple":
        return tuple(spec["items"])
    if kind == "dict":  # a dict the student's code keeps state in between calls (bind it with Scenario.build)
        return dict(spec.get("items") or {})
    raise ValueError(f"unknown kit object {kind!r}")
