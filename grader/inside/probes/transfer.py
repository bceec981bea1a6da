"""Probes for the transfer-learning exercise (run in the sandbox), and the kit models both sides build."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

from grader.inside.probes import probe


class Nested(nn.Module):
    """Convolutions in a ModuleList and a Sequential, a BatchNorm, and a Linear misleadingly named conv2."""

    def __init__(self, classes: int = 3) -> None:
        super().__init__()
        self.blocks = nn.ModuleList([nn.Conv2d(1, 3, 3), nn.Conv2d(3, 4, 3, bias=False)])
        self.norm = nn.BatchNorm2d(4)
        self.conv2 = nn.Linear(4 * 4 * 4, 12)
        self.head = nn.Sequential(nn.ReLU(), nn.Linear(12, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv in self.blocks:
            x = torch.relu(conv(x))
        x = nn.functional.max_pool2d(self.norm(x), 2)
        return self.head(self.conv2(torch.flatten(x, 1)))


def lenet() -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84),
                         nn.ReLU(), nn.Linear(84, 10))


MODELS = {"lenet": lenet, "nested": Nested}


def build(kind: str, weights: list[torch.Tensor] | None = None) -> nn.Module:
    net = MODELS[kind]()
    if weights is not None:
        with torch.no_grad():
            for p, w in zip(net.parameters(), weights):
                p.copy_(w)
    return net


def kinds(net: nn.Module) -> list[str]:
    """The type of the layer owning each parameter, in net.parameters() order."""
    owner = {id(p): type(m).__name__ for m in net.modules() for p in m.parameters(recurse=False)}
    return [owner[id(p)] for p in net.parameters()]


def run_retrain(retrain: Any, kind: str, weights: list[torch.Tensor], xs: torch.Tensor, ys: torch.Tensor,
                batch_size: int, epochs: int, lr: float) -> dict[str, Any]:
    """Retrain a kit model with `retrain`, recording what the optimizers were given."""
    net = build(kind, weights)
    given: list[list[int]] = []
    original = torch.optim.Optimizer.__init__
    index = {id(p): i for i, p in enumerate(net.parameters())}

    def recording_init(self: Any, params: Any, *args: Any, **kwargs: Any) -> None:
        params = list(params)
        flat = [p for g in params for p in (g["params"] if isinstance(g, dict) else [g])]
        given.append(sorted(index.get(id(p), -1) for p in flat))
        original(self, params, *args, **kwargs)

    torch.optim.Optimizer.__init__ = recording_init  # type: ignore[method-assign]
    try:
        losses = retrain(net, DataLoader(TensorDataset(xs, ys), batch_size=batch_size), epochs=epochs, lr=lr,
                         device=torch.device("cpu"))
    finally:
        torch.optim.Optimizer.__init__ = original  # type: ignore[method-assign]
    return {"losses": losses if isinstance(losses, list) else repr(losses)[:200],
            "weights": [p.detach().cpu() for p in net.parameters()], "optimizers": given, "kinds": kinds(net)}


@probe
def freeze(sub: Any, kind: str) -> dict[str, Any]:
    net = build(kind)
    result = sub.module("transfer").freeze_features(net)
    return {"returned_none": result is None, "kinds": kinds(net),
            "requires_grad": [p.requires_grad for p in net.parameters()]}


@probe
def trainable(sub: Any, kind: str, frozen: list[bool]) -> dict[str, Any]:
    net = build(kind)
    for p, off in zip(net.parameters(), frozen):
        p.requires_grad_(not off)
    got = sub.module("transfer").trainable_parameters(net)
    index = {id(p): i for i, p in enumerate(net.parameters())}
    return {"is_list": isinstance(got, list), "indices": [index.get(id(p), -1) for p in list(got)]}


@probe
def retrain(sub: Any, **kwargs: Any) -> dict[str, Any]:
    return run_retrain(sub.module("transfer").retrain_classifier, **kwargs)


@probe
def digits(sub: Any) -> dict[str, Any]:
    _, _, low, high = sub.module("transfer").transfer_digits()
    return {"low": float(low), "high": float(high)}
