"""Probes for the loss_backprop exercise (run in the sandbox).

Also kit code the trusted hidden tests import: `build_net` makes the small networks the
student's functions are tried on, from weights the trusted side sends, so that both sides
hold the same network and the trusted side computes the expected gradients and updates itself.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

from grader.inside.probes import ProbeError, probe

# name -> (input shape of one sample, what the net maps it to)
NETS = {
    "conv": (1, 10, 10),  # a LeNet in miniature: (N, 1, 10, 10) -> (N, 10)
    "deep": (2, 9, 9),  # two convolutions, a pool and two linears: (N, 2, 9, 9) -> (N, 5)
    "mlp": (6,),  # (N, 6) -> (N, 4), with one frozen parameter
}


def build_net(kind: str, weights: list[torch.Tensor] | None = None) -> nn.Module:
    """One of the kit's small networks; `weights` (in parameters() order) replace the initial ones."""
    if kind == "conv":
        net: nn.Module = nn.Sequential(
            nn.Conv2d(1, 3, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(3 * 4 * 4, 10))
    elif kind == "deep":
        net = nn.Sequential(
            nn.Conv2d(2, 4, 3, padding=1), nn.Tanh(), nn.MaxPool2d(2), nn.Conv2d(4, 6, 2), nn.ReLU(),
            nn.Flatten(), nn.Linear(6 * 3 * 3, 8), nn.Tanh(), nn.Linear(8, 5))
    elif kind == "mlp":
        net = nn.Sequential(nn.Linear(6, 7), nn.Sigmoid(), nn.Linear(7, 4))
        net[2].bias.requires_grad_(False)  # frozen: never gets a gradient
    else:
        raise ValueError(f"no kit network named {kind!r}")
    if weights is not None:
        params = list(net.parameters())
        if len(params) != len(weights):
            raise ValueError("wrong number of weights")
        with torch.no_grad():
            for p, w in zip(params, weights):
                p.copy_(w)
    return net


def initial_weights(kind: str, seed: int) -> list[torch.Tensor]:
    """Seeded random weights for a kit network (scaled by 1/sqrt(fan_in)), made on the trusted side."""
    generator = torch.Generator().manual_seed(seed)
    weights = []
    for p in build_net(kind).parameters():
        scale = 1.0 / math.sqrt(math.prod(p.shape[1:])) if p.dim() > 1 else 0.2
        weights.append(torch.randn(p.shape, generator=generator) * scale)
    return weights


def make_criterion(name: str) -> Any:
    """The loss the student's function is given: a module or a plain function."""
    return {"mse": nn.MSELoss(), "ce": nn.CrossEntropyLoss(), "ce_fn": F.cross_entropy,
            "mse_sum": nn.MSELoss(reduction="sum")}[name]


# -- helpers that run in the sandbox ----------------------------------------------------------
def garbage_grads(net: nn.Module, seed: int) -> None:
    """Fill every trainable parameter's .grad with large random values (old gradients)."""
    generator = torch.Generator().manual_seed(seed)
    for p in net.parameters():
        if p.requires_grad:
            p.grad = torch.randn(p.shape, generator=generator) * 50


def grads_of(net: nn.Module) -> list[torch.Tensor | None]:
    return [None if p.grad is None else p.grad.detach().clone() for p in net.parameters()]


def params_of(net: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in net.parameters()]


def tensor_report(value: Any) -> dict[str, Any]:
    """A returned value as plain data: its kind, and the tensor if it is one."""
    if isinstance(value, torch.Tensor):
        # flattened: the channel cannot carry 0-dim tensors; the shape travels beside it
        return {"kind": "tensor", "value": value.detach().reshape(-1).clone(), "shape": list(value.shape),
                "requires_grad": value.requires_grad, "dtype": str(value.dtype).removeprefix("torch.")}
    if isinstance(value, bool) or value is None:
        return {"kind": type(value).__name__, "value": None}
    if isinstance(value, (int, float)):  # numpy's float64 is a float too
        return {"kind": "float" if isinstance(value, float) else "int", "value": float(value)}
    return {"kind": type(value).__name__, "value": None}


# -- probes -----------------------------------------------------------------------------------
@probe
def dummy_target(sub: Any) -> dict[str, Any]:
    """dummy_target(): what it returned (kind, dtype, shape, values)."""
    target = sub.module("loss_backprop").dummy_target()
    return tensor_report(target)


@probe
def loss_call(sub: Any, fn: str, a: torch.Tensor, b: torch.Tensor) -> dict[str, Any]:
    """lb.<fn>(a, b) with a requiring grad; the loss and d loss / d a (if it can be back-propagated)."""
    if fn not in ("mse_loss", "cross_entropy"):
        raise ValueError(fn)
    a = a.clone().requires_grad_(True)
    b_before = b.clone()
    loss = getattr(sub.module("loss_backprop"), fn)(a, b)
    obs = tensor_report(loss)
    obs["grad"] = None
    if isinstance(loss, torch.Tensor) and loss.requires_grad and loss.numel() == 1:
        loss.backward()
        obs["grad"] = None if a.grad is None else a.grad.detach().clone()
    obs["inputs_kept"] = torch.equal(b, b_before)
    return obs


@probe
def gradients(sub: Any, fn: str, kind: str, weights: list[torch.Tensor], criterion: str, x: torch.Tensor,
              y: torch.Tensor, times: int = 1, garbage: int | None = 1) -> dict[str, Any]:
    """compute_gradients or accumulate_gradients on a kit network whose .grad holds old values."""
    net = build_net(kind, weights)
    if garbage is not None:
        garbage_grads(net, garbage)
    lb = sub.module("loss_backprop")
    if fn == "compute_gradients":
        result = lb.compute_gradients(net, make_criterion(criterion), x, y)
    elif fn == "accumulate_gradients":
        result = lb.accumulate_gradients(net, make_criterion(criterion), x, y, times)
    else:
        raise ValueError(fn)
    obs = tensor_report(result)
    obs["grads"] = grads_of(net)
    obs["params"] = params_of(net)
    return obs


@probe
def sgd_update(sub: Any, kind: str, weights: list[torch.Tensor], grads: list[torch.Tensor | None],
               lr: float) -> dict[str, Any]:
    """lb.sgd_update(net.parameters(), lr) with the given .grad (None: no gradient), then one more backward."""
    net = build_net(kind, weights)
    for p, g in zip(net.parameters(), grads):
        p.grad = None if g is None else g.clone()
    result = sub.module("loss_backprop").sgd_update(net.parameters(), lr)
    obs = {
        "result": tensor_report(result)["kind"],
        "params": params_of(net),
        "leaves": [p.is_leaf for p in net.parameters()],
        "requires_grad": [p.requires_grad for p in net.parameters()],
        "grad_fns": [p.grad_fn is not None for p in net.parameters()],
    }
    # still trainable afterwards: another backward must reach every trainable parameter
    net.zero_grad()
    x = torch.ones(2, *NETS[kind])
    net(x).sum().backward()
    obs["trainable_after"] = [p.grad is not None for p in net.parameters() if p.requires_grad]
    return obs


@probe
def make_optimizer(sub: Any, kind: str, weights: list[torch.Tensor], grads: list[torch.Tensor],
                   lr: float | None) -> dict[str, Any]:
    """lb.make_optimizer(net, lr) (or without lr): what it holds, and what one step() does."""
    net = build_net(kind, weights)
    for p in net.parameters():
        p.requires_grad_(True)
    lb = sub.module("loss_backprop")
    opt = lb.make_optimizer(net) if lr is None else lb.make_optimizer(net, lr=lr)
    if not isinstance(opt, optim.Optimizer):
        raise ProbeError(f"make_optimizer(net{'' if lr is None else f', lr={lr}'}) returned a "
                         f"{type(opt).__name__}, expected a torch.optim.SGD")
    held = [p for group in opt.param_groups for p in group["params"]]
    ids = [id(p) for p in net.parameters()]
    obs = {
        "type": type(opt).__name__,
        "is_sgd": isinstance(opt, optim.SGD),
        "n_held": len(held),
        "all_once": sorted(id(p) for p in held) == sorted(ids),
        "lrs": [float(g.get("lr", float("nan"))) for g in opt.param_groups],
        "momentum": [float(g.get("momentum", 0.0)) for g in opt.param_groups],
        "weight_decay": [float(g.get("weight_decay", 0.0)) for g in opt.param_groups],
        "nesterov": [bool(g.get("nesterov", False)) for g in opt.param_groups],
        "dampening": [float(g.get("dampening", 0.0)) for g in opt.param_groups],
        "maximize": [bool(g.get("maximize", False)) for g in opt.param_groups],
    }
    for p, g in zip(net.parameters(), grads):
        p.grad = g.clone()
    opt.step()
    obs["params"] = params_of(net)
    return obs


@probe
def training_step(sub: Any, kind: str, weights: list[torch.Tensor], criterion: str,
                  batches: list[list[torch.Tensor]], optimizer: dict[str, Any], garbage: int = 3) -> dict[str, Any]:
    """lb.training_step once per batch with a kit-made optimizer, after filling .grad with old values."""
    net = build_net(kind, weights)
    opt = make_kit_optimizer(net, optimizer)
    garbage_grads(net, garbage)
    step = sub.module("loss_backprop").training_step
    losses = []
    params = []
    for x, y in batches:
        losses.append(tensor_report(step(net, opt, make_criterion(criterion), x, y)))
        params.append(params_of(net))
    return {"losses": losses, "params": params}


def make_kit_optimizer(net: nn.Module, spec: dict[str, Any]) -> optim.Optimizer:
    """The optimizer a training_step check hands to the student: SGD (with options) or Adam."""
    kind = spec.get("type", "SGD")
    options = {k: v for k, v in spec.items() if k != "type"}
    trainable = [p for p in net.parameters() if p.requires_grad]
    if kind == "SGD":
        return optim.SGD(trainable, **options)
    if kind == "Adam":
        return optim.Adam(trainable, **options)
    raise ValueError(kind)
