"""Probes for the LeNet exercise (run in the sandbox)."""

from __future__ import annotations

from typing import Any

import torch

from grader.probes import load_by_shape, parameter_shapes, probe, trace


@probe
def net_forward(sub: Any, cls: str, x: torch.Tensor, weights: list[torch.Tensor] | None = None,
                args: list[Any] | None = None) -> dict[str, Any]:
    """Build lenet.<cls>(*args), optionally load weights by shape, run x through it with hooks."""
    net = getattr(sub.module("lenet"), cls)(*(args or []))
    shapes = parameter_shapes(net)
    if weights is not None:
        load_by_shape(net, weights)
    out, calls = trace(net, x)
    return {"out": out, "calls": calls, "param_shapes": shapes,
            "n_params": sum(p.numel() for p in net.parameters())}
