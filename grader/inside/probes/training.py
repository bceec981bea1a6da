"""Probes for the training exercise (run in the sandbox), and the kit models both sides build."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

from grader.inside.probes import picture_facts, probe


class Recorder(nn.Module):
    """A small conv net that records, for each forward, its mode, autograd state and input device."""

    def __init__(self, weights: list[torch.Tensor] | None = None) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.fc = nn.Linear(4 * 6 * 6, 3)
        self.calls: list[tuple[bool, bool, str]] = []
        if weights is not None:
            with torch.no_grad():
                for p, w in zip(self.parameters(), weights):
                    p.copy_(w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls.append((self.training, torch.is_grad_enabled(), x.device.type))
        return self.fc(torch.flatten(torch.relu(self.conv(x)), 1))


class Table(nn.Module):
    """Returns fixed scores: row i of `scores` for an input holding the number i."""

    def __init__(self, scores: torch.Tensor) -> None:
        super().__init__()
        self.scores = nn.Parameter(scores.clone(), requires_grad=True)
        self.calls: list[tuple[bool, bool]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls.append((self.training, torch.is_grad_enabled()))
        return self.scores[x.view(-1).long()] * 1.0


def loader(xs: torch.Tensor, ys: torch.Tensor, batch_size: int) -> DataLoader:
    """An unshuffled loader over the given tensors."""
    return DataLoader(TensorDataset(xs, ys), batch_size=batch_size, shuffle=False)


def run_train(train: Any, weights: list[torch.Tensor], xs: torch.Tensor, ys: torch.Tensor, batch_size: int,
              epochs: int, log_every: int, lr: float, momentum: float, device: str,
              start_in_eval: bool = False) -> dict[str, Any]:
    """Train a Recorder with `train`; shared by the probe and the trusted reference."""
    net = Recorder(weights)
    if start_in_eval:
        net.eval()
    optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        history = train(net, loader(xs, ys, batch_size), nn.CrossEntropyLoss(), optimizer,
                        epochs=epochs, device=torch.device(device), log_every=log_every)
    return {
        "history": history,
        "weights": [p.detach().cpu() for p in net.parameters()],
        "calls": net.calls,
        "param_devices": sorted({p.device.type for p in net.parameters()}),
        "printed": printed.getvalue()[:4000],
    }


@probe
def get_device(sub: Any) -> dict[str, Any]:
    device = sub.module("training").get_device()
    return {"device": str(device), "is_device": isinstance(device, torch.device),
            "cuda": torch.cuda.is_available()}


@probe
def train(sub: Any, **kwargs: Any) -> dict[str, Any]:
    return run_train(sub.module("training").train, **kwargs)


@probe
def evaluate(sub: Any, scores: torch.Tensor, labels: torch.Tensor, batch_size: int,
             num_classes: int | None = None, start_in_train: bool = True) -> dict[str, Any]:
    """accuracy() (or per_class_accuracy() when num_classes is given) over a Table net."""
    module = sub.module("training")
    net = Table(scores)
    net.train(start_in_train)
    data = loader(torch.arange(len(labels)).float().view(-1, 1), labels, batch_size)
    if num_classes is None:
        result = module.accuracy(net, data, device=torch.device("cpu"))
    else:
        result = module.per_class_accuracy(net, data, num_classes, device=torch.device("cpu"))
    if isinstance(result, torch.Tensor):
        result = result.tolist()
    ok_type = isinstance(result, float) or (isinstance(result, list) and all(isinstance(v, float) for v in result))
    return {"result": result if ok_type else repr(result)[:200], "calls": net.calls}


@probe
def mnist(sub: Any) -> dict[str, Any]:
    """Run the student's mnist_classifier() and measure its network on the test digits ourselves."""
    from torchvision import transforms

    from _kit.datasets import mnist as load

    net, history, reported = sub.module("training").mnist_classifier()
    transform = transforms.Compose([transforms.Pad(2), transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    device = next(net.parameters()).device
    net.eval()
    correct = 0
    with torch.no_grad():
        for inputs, labels in DataLoader(load(train=False, transform=transform), batch_size=500):
            correct += (net(inputs.to(device)).argmax(dim=1).cpu() == labels).sum().item()
    return {"history": [float(h) for h in history], "reported": float(reported),
            "measured": 100.0 * correct / 1000, "device": device.type}


@probe
def curves(sub: Any, history: list[float], accuracies: list[float] | None) -> dict[str, Any]:
    path = Path("/tmp") / f"curves-{len(history)}-{accuracies is None}.png"
    path.unlink(missing_ok=True)
    sub.module("training").save_training_curves(history, accuracies, path)
    return picture_facts(path)
