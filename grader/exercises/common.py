"""Helpers every hidden suite shares: export a student's module, run it here with the grader's
weights, and the checks that read its parameters, outputs and gradients."""

from __future__ import annotations

from typing import Any, Sequence

import torch
import torch.nn as nn

from grader.grading.checks import Mismatch, expect
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


def reference_output(reference: nn.Module, weights: Sequence[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """What the reference module gives on x with these weights."""
    with torch.no_grad():
        for p, w in zip(reference.parameters(), weights):
            p.copy_(w)
        return reference(x)


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
