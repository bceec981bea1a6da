"""Helpers every hidden suite shares: export a student's module, run it here with the grader's
weights, and the checks that read its parameters, outputs and gradients."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn as nn

from grader.grading.checks import Mismatch, expect, expect_close, expect_shape, expect_tensor
from grader.grading.graphs import Run
from grader.grading.layers import Layer, layers
from grader.grading.scenario import Exported, Scenario, Submission, not_connected
from grader.grading.secret import Draw


def shape_str(x: torch.Tensor | Sequence[int]) -> str:
    return str(tuple(x.shape) if isinstance(x, torch.Tensor) else tuple(x))


def export(submission: Submission, exercise: str, factory: str, args: Sequence[Any], examples: Sequence[torch.Tensor],
           what: str, rng: Draw, modes: Sequence[str | None] | None = None, values: bool = False,
           timeout: float | None = None) -> Exported:
    """Build `factory(*args)` in the worker and export it, one graph per example input (traced on
    the example: the grader later runs it on inputs the worker never sees)."""
    s = Scenario(exercise)
    made = s.call(factory, *args)
    step = s.export(made, [[x] for x in examples], modes=modes, values=values)
    return s.run(submission, seed=rng.seed(), timeout=timeout).exported(step, what)


def reference_weights(reference: nn.Module, rng: Draw, scale: float = 0.2) -> list[torch.Tensor]:
    """Random weights in the shapes of the reference module's parameters."""
    return [rng.randn(*p.shape, scale=scale) for p in reference.parameters()]


def reference_output(reference: nn.Module, weights: Sequence[torch.Tensor], x: torch.Tensor,
                     buffers: Sequence[torch.Tensor] | None = None, train: bool | None = None) -> torch.Tensor:
    """What the reference module gives on x with these weights (and these buffers, in reference.buffers()
    order), in training or eval mode when `train` says; its buffers then hold what the call left in them."""
    with torch.no_grad():
        for p, w in zip(reference.parameters(), weights):
            p.copy_(w)
        for b, v in zip(reference.buffers(), buffers or []):
            b.copy_(v)
        if train is not None:
            reference.train(train)
        out: torch.Tensor = reference(x)
        return out


def role_order(reference: nn.Module, example: torch.Tensor, mode: str | None = None) -> tuple[list[int], list[int]]:
    """The positions in reference.parameters() and in reference.buffers(), in the order of their roles in the
    reference's graph for an input like `example` (grader.grading.layers.roles): the order Exported.by_shape
    (and buffers_by_shape) takes the grader's values in for a network that is not a plain chain of layers,
    such as a residual block. The reference is trusted code, traced here as a worker traces the student's."""
    import copy

    from grader.grading.graphs import Graph
    from grader.grading.layers import roles
    from grader.inside.export import export_module

    def fail(exc: BaseException) -> dict[str, Any]:
        raise exc

    module = copy.deepcopy(reference)
    reading = export_module(module, [{"inputs": [example], "mode": mode}], values=False, on_error=fail)
    params, state = list(module.parameters()), [*module.parameters(), *module.buffers()]
    order = roles(Graph.from_wire(reading["graphs"][0], "the reference"), [tuple(t.shape) for t in state])
    return [i for i in order if i < len(params)], [i - len(params) for i in order if i >= len(params)]


def forward(exported: Exported, call: int, weights: Sequence[torch.Tensor], x: torch.Tensor,
            hint: str = "", keep: bool = False) -> Run:
    """Run the student's module here: the grader's weights loaded by shape, on the grader's input."""
    return exported.forward(call, exported.by_shape(weights, hint), [x], keep=keep)


def expect_all_used(exported: Exported, call: int, weights: Sequence[torch.Tensor], x: torch.Tensor) -> None:
    """Every parameter must receive a finite, non-zero gradient from the output, computed here."""
    params = exported.by_shape(weights)
    grads = exported.gradients(call, params, [x])
    unused = not_connected(grads)
    if unused:
        shapes = ", ".join(shape_str(exported.params[i].shape) for i in unused)
        raise Mismatch(f"{exported.what} has parameters that get no gradient from its output ({shapes}): "
                       "is every layer used in forward, and is nothing detached?")


def run_layers(exported: Exported, call: int, weights: Sequence[torch.Tensor], x: torch.Tensor) -> list[Layer]:
    """The layers of one call of the student's module, read from the grader's own run of it."""
    params = exported.by_shape(weights)
    run = exported.forward(call, params, [x], keep=True)
    state = [*params, *exported.buffer_values(), x]
    return layers(exported.graph(call), run, state, len(exported.params))


def expect_failure_explained(exported: Exported, call: int) -> None:
    """If the call's forward failed in the worker, fail with what it raised."""
    error = exported.error(call)
    if error is not None and error.get("type") != "ExportError":
        from grader.isolation.remote import StudentError

        raise StudentError(error)
    expect(error is None, f"{exported.what}: {error.get('message') if error else ''}")


def picture(data: Any, what: str, min_size: tuple[int, int] = (300, 150)) -> torch.Tensor:
    """The student's saved picture, decoded here: it must be a PNG of at least `min_size` pixels with
    some ink. Returns its pixels as a (3, H, W) uint8 tensor."""
    import io

    import numpy as np
    from PIL import Image

    expect(isinstance(data, torch.Tensor) and data.numel() > 0, f"{what} wrote no file at path: finish with "
           "fig.savefig(path)")
    raw = bytes(data.tolist())
    expect(raw[:8] == b"\x89PNG\r\n\x1a\n", f"{what} wrote a file that is not a PNG image")
    Image.MAX_IMAGE_PIXELS = 1 << 24  # a decompression bomb stops here, not in the grader's memory
    try:
        with Image.open(io.BytesIO(raw)) as image:
            pixels = torch.from_numpy(np.array(image.convert("RGB"))).permute(2, 0, 1).contiguous()
    except Exception as exc:  # a broken PNG is the student's problem
        raise Mismatch(f"{what} wrote a PNG that cannot be read ({type(exc).__name__})") from None
    height, width = pixels.shape[1:]
    ink = float((pixels.float().mean(dim=0) < 200).float().mean())
    expect(width >= min_size[0] and height >= min_size[1] and ink > 0.005,
           f"{what} wrote a {width}x{height} image with {ink:.1%} ink: draw the pictures on axes that fill the figure")
    return pixels


def nonzero_randn(rng: Draw, *shape: int) -> torch.Tensor:
    """Random values none of which is (nearly) zero, so that a dropped value is told from a kept one."""
    x = rng.randn(*shape)
    return torch.where(x.abs() < 1e-3, torch.full_like(x, 0.5), x)


def check_dropped(y: object, x: torch.Tensor, p: float, what: str, band: float) -> torch.Tensor:
    """y must be 0 or exactly x / (1 - p) everywhere, with about a fraction p of zeros; return the zero mask."""
    y = expect_tensor(y, what)
    expect_shape(y, x.shape, what)
    zero = y == 0
    expect_close(y[~zero], x[~zero] / (1 - p), f"the values kept by {what}", atol=1e-6, rtol=1e-5,
                 hint=f"every value is either 0 or x / (1 - p) = x / {1 - p:g}")
    frac = zero.float().mean().item()
    expect(abs(frac - p) < band, f"{what} zeroed {frac:.1%} of {x.numel():,} values, expected about {p:.0%}: "
           "drop each value with probability p, e.g. keep where torch.rand_like(x) >= p")
    return zero
