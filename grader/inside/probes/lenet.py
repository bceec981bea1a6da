"""Probes for the LeNet exercise (run in the sandbox)."""

from __future__ import annotations

from typing import Any

import torch

from grader.inside.probes import load_by_shape, parameter_shapes, probe, trace


@probe
def net_forward(sub: Any, cls: str, x: torch.Tensor, weights: list[torch.Tensor] | None = None,
                args: list[Any] | None = None, grad_out: torch.Tensor | None = None) -> dict[str, Any]:
    """Build lenet.<cls>(*args), optionally load weights by shape, run x through it with hooks.

    With `grad_out`, also backpropagate (out * grad_out).sum() and report, per parameter,
    whether its gradient is finite and non-zero (every parameter must take part).
    """
    net = getattr(sub.module("lenet"), cls)(*(args or []))
    shapes = parameter_shapes(net)
    if weights is not None:
        load_by_shape(net, weights)
    out, calls = trace(net, x)
    used = None
    if grad_out is not None:
        (out * grad_out).sum().backward()
        used = [p.grad is not None and bool(torch.isfinite(p.grad).all()) and bool(p.grad.abs().sum() > 0)
                for p in net.parameters()]
    return {"out": out.detach(), "calls": calls, "param_shapes": shapes, "grads_used": used,
            "n_params": sum(p.numel() for p in net.parameters())}
