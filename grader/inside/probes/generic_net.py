"""Probes for the generic_net exercise (run in the sandbox).

Also kit code the trusted hidden tests import: `seeded_weights` (the same random weights on
both sides without sending a 120 x 18,496 fc1 over the channel) and `build_model` (the small
models that summarize() is tried on; the trusted side traces its own copy for the expectation).
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.modules import module as nn_module

from grader.inside.probes import ProbeError, layer_config, leaves, load_by_shape, parameter_shapes, probe, trace


# -- shared with the trusted side ----------------------------------------------------------------
def seeded_weights(shapes: list[list[int]], seed: int) -> list[torch.Tensor]:
    """Random weights for the given parameter shapes, the same on both sides of the channel.

    Weights get a 1/sqrt(fan_in) scale so that activations stay of order one whatever the
    input size; biases (1-d) get 0.1.
    """
    generator = torch.Generator().manual_seed(seed)
    tensors = []
    for shape in shapes:
        scale = 1.0 / math.sqrt(math.prod(shape[1:])) if len(shape) > 1 else 0.1
        tensors.append(torch.randn(*shape, generator=generator) * scale)
    return tensors


class Scale(nn.Module):
    """A custom leaf with a parameter of its own: x * weight, one factor per channel."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.linspace(0.5, 1.5, channels).reshape(1, channels, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.weight


class Block(nn.Module):
    """conv 3x3 (padding 1) + custom scale + ReLU, applied as one unit."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.scale = Scale(channels)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.scale(self.conv(x)))


class Shared(nn.Module):
    """Calls one block and one pool several times, uses a ModuleList, has an unused layer,
    does some work functionally (F.relu, torch.flatten) between the modules."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(2, 4, (3, 5), stride=(1, 2))
        self.block = Block(4)
        self.pool = nn.MaxPool2d(2, ceil_mode=True)
        self.never = nn.Sequential(nn.Linear(9, 9), nn.ReLU())
        self.heads = nn.ModuleList([nn.Linear(4 * 3 * 2, 6), nn.Linear(6, 5)])
        self.gate = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.block(self.stem(x)))
        x = self.pool(self.block(x))
        x = torch.flatten(x, 1)
        x = F.relu(self.heads[0](x))
        return self.gate(self.heads[1](x))


class Guest(nn.Module):
    """Linear layers, dropouts and ReLUs in nested containers, for the good-guest checks."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(6, 8), nn.Dropout(0.4), nn.ReLU())
        self.head = nn.Sequential(nn.Linear(8, 5), nn.Dropout(0.2), nn.Sequential(nn.Tanh()))
        self.out = nn.Linear(5, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.head(self.body(x)))


def build_model(name: str) -> tuple[nn.Module, tuple[int, ...]]:
    """One of the kit's small models for summarize(), with the input shape it is tried on."""
    torch.manual_seed(11)
    if name == "sequential":
        model = nn.Sequential(
            nn.Conv2d(3, 5, 3, padding=1), nn.BatchNorm2d(5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(5, 7, (3, 2), stride=2), nn.Tanh(), nn.Flatten(),
            nn.Linear(7 * 2 * 2, 9), nn.Dropout(0.3), nn.LeakyReLU(), nn.Linear(9, 4),
        )
        return model, (3, 13, 11)
    if name == "shared":
        return Shared(), (2, 11, 17)
    if name == "guest":
        return Guest(), (6,)
    if name == "leaf_conv":
        return nn.Conv2d(2, 3, (3, 2), stride=(2, 1)), (2, 9, 7)
    if name == "leaf_flatten":
        return nn.Flatten(), (3, 4, 5)
    if name == "leaf_custom":
        return Scale(5), (5, 3, 2)
    raise ValueError(f"no kit model named {name!r}")


def trace_rows(model: nn.Module, input_shape: tuple[int, ...]) -> list[list[Any]]:
    """What summarize(model, input_shape) should give, as plain rows [name, shape, params]."""
    modes = {m: m.training for m in model.modules()}
    model.eval()
    try:
        with torch.no_grad():
            _, calls = trace(model, torch.zeros(1, *input_shape))
    finally:
        for m, training in modes.items():
            m.training = training
    return [[c["type"], c["shape"], c["params"]] for c in calls]


# -- helpers that run in the sandbox ----------------------------------------------------------
def make_net(sub: Any, input_shape: list[int], num_outputs: int) -> nn.Module:
    net = sub.module("generic_net").Net(tuple(input_shape), num_outputs)
    if not isinstance(net, nn.Module):
        raise ProbeError(f"Net({tuple(input_shape)}, {num_outputs}) is not an nn.Module")
    return net


def run_traced(model: nn.Module, x: torch.Tensor) -> tuple[Any, list[dict[str, Any]], str | None]:
    """Run `model` with a pre- and a post-hook on every leaf.

    Returns the output, the leaves' calls in order (type, input shape, output shape, own
    parameter count, config) and, if the forward raised after a Linear was reached, the
    error as text (so a wrong fc1 size still reports what fc1 was given).
    """
    calls: list[dict[str, Any]] = []
    open_calls: dict[int, dict[str, Any]] = {}

    def before(module: nn.Module, inputs: Any) -> None:
        first = next((t for t in inputs if isinstance(t, torch.Tensor)), None)
        entry = {
            "type": type(module).__name__,
            "in_shape": list(first.shape) if first is not None else None,
            "shape": None,
            "params": sum(p.numel() for p in module.parameters(recurse=False)),
            "config": layer_config(module),
            "linear_in": module.in_features if isinstance(module, nn.Linear) else None,
        }
        calls.append(entry)
        open_calls[id(module)] = entry

    def after(module: nn.Module, _inputs: Any, output: Any) -> None:
        entry = open_calls.pop(id(module), None)
        if entry is not None and isinstance(output, torch.Tensor):
            entry["shape"] = list(output.shape)

    handles = []
    for m in leaves(model):
        handles.append(m.register_forward_pre_hook(before))
        handles.append(m.register_forward_hook(after))
    try:
        output = model(x)
        error = None
    except Exception as exc:  # noqa: BLE001 - reported if a Linear was reached, re-raised otherwise
        if not any(c["linear_in"] is not None for c in calls):
            raise
        output, error = None, f"{type(exc).__name__}: {str(exc)[:200]}"
    finally:
        for handle in handles:
            handle.remove()
    return output, calls, error


def grad_report(model: nn.Module) -> list[dict[str, Any]]:
    """For each parameter: its shape, whether it got a gradient, finite, not all zero."""
    report = []
    for p in model.parameters():
        g = p.grad
        finite = nonzero = False
        if g is not None:
            # fast on a 30M-weight fc1: one sum (exact check only if it is not finite), one count
            finite = bool(torch.isfinite(g.sum())) or bool(torch.isfinite(g).all())
            nonzero = int(torch.count_nonzero(g)) > 0
        report.append({"shape": list(p.shape), "has": g is not None, "finite": finite, "nonzero": nonzero})
    return report


def plain_rows(rows: Any) -> tuple[list[list[Any]] | None, str | None]:
    """summarize's rows as plain data, or a description of the first thing of the wrong form."""
    if not isinstance(rows, list):
        return None, f"returned a {type(rows).__name__}, expected a list of (name, shape, parameter count) tuples"
    plain = []
    for i, row in enumerate(rows):
        if not isinstance(row, tuple) or len(row) != 3:
            size = len(row) if hasattr(row, "__len__") else "?"
            return None, f"row {i} is a {type(row).__name__} of length {size}, expected a tuple of 3"
        name, shape, count = row
        if not isinstance(name, str):
            return None, f"row {i}'s name is a {type(name).__name__}, expected a str (type(module).__name__)"
        if not isinstance(shape, tuple) or not all(isinstance(d, int) and not isinstance(d, bool) for d in shape):
            return None, f"row {i}'s shape is a {type(shape).__name__}, expected a tuple of ints (tuple(output.shape))"
        if not isinstance(count, int) or isinstance(count, bool):
            return None, f"row {i}'s parameter count is a {type(count).__name__}, expected an int"
        plain.append([str(name), [int(d) for d in shape], int(count)])
    return plain, None


def hook_counts(model: nn.Module) -> list[list[int]]:
    return [[len(m._forward_hooks), len(m._forward_pre_hooks)] for m in model.modules()]


def global_hook_count() -> int:
    return len(nn_module._global_forward_hooks) + len(nn_module._global_forward_pre_hooks)


# -- probes -----------------------------------------------------------------------------------
@probe
def net_run(sub: Any, input_shape: list[int], num_outputs: int, x: torch.Tensor,
            weight_shapes: list[list[int]] | None = None, weight_seed: int | None = None,
            backward: bool = True, send_output: bool = True) -> dict[str, Any]:
    """Build Net(input_shape, num_outputs), optionally load seeded weights by shape, run x
    through it with hooks, back-propagate output.sum(); report shapes, counts, calls, grads."""
    net = make_net(sub, input_shape, num_outputs)
    obs: dict[str, Any] = {"n_params": sum(p.numel() for p in net.parameters()), "param_shapes": parameter_shapes(net)}
    if weight_seed is not None:
        load_by_shape(net, seeded_weights(weight_shapes or [], weight_seed))
    out, calls, error = run_traced(net, x)
    obs["calls"] = calls
    obs["error"] = error
    linear_ins = [c["linear_in"] for c in calls if c["linear_in"] is not None]
    obs["first_linear_in"] = linear_ins[0] if linear_ins else None
    if error is not None:
        return obs
    if not isinstance(out, torch.Tensor) or out.dim() == 0:
        got = "a 0-dim tensor" if isinstance(out, torch.Tensor) else f"a {type(out).__name__}"
        raise ProbeError(f"Net({tuple(input_shape)}, {num_outputs})(x) returned {got}, expected scores of shape "
                         "(batch, num_outputs)")
    obs["out_shape"] = list(out.shape)
    obs["out"] = out.detach().clone() if send_output else None
    if backward:
        if not out.requires_grad:
            raise ProbeError(f"Net({tuple(input_shape)}, {num_outputs})(x) is not connected to the parameters "
                             "(no gradient can flow back): return the output of fc3")
        net.zero_grad()
        out.float().sum().backward()
        obs["grads"] = grad_report(net)
    return obs


@probe
def summarize_kit(sub: Any, model: str) -> dict[str, Any]:
    """summarize() on one of the kit's models; the trusted side traces its own copy."""
    net, input_shape = build_model(model)
    rows, problem = plain_rows(sub.module("generic_net").summarize(net, input_shape))
    return {"rows": rows, "format": problem}


@probe
def summarize_net(sub: Any, input_shape: list[int], num_outputs: int) -> dict[str, Any]:
    """summarize() on the student's own Net, next to this probe's trace of the same model."""
    gn = sub.module("generic_net")
    net = make_net(sub, input_shape, num_outputs)
    rows, problem = plain_rows(gn.summarize(net, tuple(input_shape)))
    return {"rows": rows, "format": problem, "trace": trace_rows(net, tuple(input_shape)),
            "n_params": sum(p.numel() for p in net.parameters())}


@probe
def summarize_guest(sub: Any) -> dict[str, Any]:
    """summarize() on a model with mixed train/eval flags and hooks of its own: what it left behind."""
    summarize = sub.module("generic_net").summarize
    model, input_shape = build_model("guest")
    model.train()
    model.head.eval()
    model.body[1].eval()
    model.head[2].train()
    before_params = [p.detach().clone() for p in model.parameters()]
    modes_before = [m.training for m in model.modules()]
    seen_grad_modes: list[bool] = []
    own = [model.body[0].register_forward_hook(lambda *_: seen_grad_modes.append(torch.is_grad_enabled())),
           model.out.register_forward_pre_hook(lambda *_: None)]
    hooks_before = hook_counts(model)
    globals_before = global_hook_count()

    rows, problem = plain_rows(summarize(model, input_shape))
    obs: dict[str, Any] = {
        "rows": rows,
        "format": problem,
        "modes_before": modes_before,
        "modes_after": [m.training for m in model.modules()],
        "hooks_kept": hook_counts(model) == hooks_before and global_hook_count() == globals_before,
        "own_hooks_kept": all(h.id in m._forward_hooks or h.id in m._forward_pre_hooks
                              for h, m in zip(own, (model.body[0], model.out))),
        "grad_modes": list(seen_grad_modes),
        "params_same": all(torch.equal(a, b.detach()) for a, b in zip(before_params, model.parameters())),
        "params_trainable": all(p.requires_grad and p.is_leaf for p in model.parameters()),
        "grads_none": all(p.grad is None for p in model.parameters()),
    }
    try:
        summarize(model, (7,))  # Linear(6, 8) cannot take 7 features: the forward raises
        obs["raised"] = False
    except Exception:  # noqa: BLE001 - expected
        obs["raised"] = True
    obs["hooks_kept_after_error"] = hook_counts(model) == hooks_before and global_hook_count() == globals_before
    obs["modes_after_error"] = [m.training for m in model.modules()]
    for handle in own:
        handle.remove()
    return obs
