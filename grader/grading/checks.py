"""The hidden tests' vocabulary: checks that fail with a gradebook message, and how failures read.

Messages say what was wrong without revealing hidden inputs or expected values that would
let a student fit the tests rather than the task.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from grader.grading.results import Outcome
from grader.isolation.remote import StudentError, WorkerFailed


class Mismatch(AssertionError):
    """The student's code ran but did not do what the task asks."""


def expect(condition: bool, message: str) -> None:
    """Fail with `message` unless `condition` holds."""
    if not condition:
        raise Mismatch(message)


def type_name(value: Any) -> str:
    """The type of a returned value as the student would name it (opaque objects by their own type)."""
    return str(getattr(value, "type_name", type(value).__name__))


def expect_tensor(value: Any, what: str) -> torch.Tensor:
    """`value` must be a tensor (readings arrive as plain data or fresh tensors)."""
    if not isinstance(value, torch.Tensor):
        raise Mismatch(f"{what} did not return a tensor (got {type_name(value)})")
    return value


def shape(value: Any) -> tuple[int, ...] | None:
    """A tensor's or a reported shape as a tuple, None for anything else."""
    if isinstance(value, torch.Tensor):
        return tuple(value.shape)
    if isinstance(value, (list, tuple)) and all(isinstance(d, int) for d in value):
        return tuple(value)
    return None


def expect_shape(value: Any, expected: Sequence[int], what: str, hint: str = "") -> None:
    """`value` must be a tensor (or a reported shape) equal to `expected`."""
    got = shape(value)
    expected = tuple(expected)
    message = f"{what} gave shape {got}, expected {expected}" if got is not None else f"{what} did not return a tensor"
    expect(got == expected, f"{message}{': ' + hint if hint else ''}")


def expect_close(value: Any, expected: torch.Tensor, what: str, atol: float = 1e-5, rtol: float = 1e-4,
                 hint: str = "") -> None:
    """`value` must match `expected` in shape, and in value within tolerance."""
    got = expect_tensor(value, what)
    expect_shape(got, expected.shape, what, hint)
    got = got.to(expected.dtype)
    same = torch.allclose(got, expected, atol=atol, rtol=rtol)
    if not same:
        worst = (got - expected).abs().nan_to_num(float("inf")).max().item()
        raise Mismatch(f"{what} has the right shape but wrong values (largest error {worst:.3g})"
                       f"{': ' + hint if hint else ''}")


def expect_equal(value: Any, expected: Any, what: str, hint: str = "") -> None:
    """Plain values must be equal (both sides are plain data from the channel)."""
    expect(type(value) in (int, float, bool, str, list, tuple, dict, type(None)) and value == expected,
           f"{what} gave {value!r}, expected {expected!r}{': ' + hint if hint else ''}")


def explain(exc: BaseException) -> tuple[Outcome, str]:
    """The outcome and gradebook message for a hidden test's exception."""
    if isinstance(exc, Mismatch):
        return Outcome.FAILED, str(exc)
    if isinstance(exc, StudentError):
        info = exc.info
        if info.get("not_started"):
            return Outcome.NOT_STARTED, "not started yet"
        where = f" ({info['where']})" if info.get("where") else ""
        if info.get("import_error"):
            return Outcome.ERROR, f"the module could not be imported: {info.get('type')}: {info.get('message')}{where}"
        if info.get("kit_error"):
            return Outcome.FAILED, str(info.get("message"))
        return Outcome.FAILED, f"raised {info.get('type')}: {info.get('message')}{where}"
    if isinstance(exc, WorkerFailed):
        return (Outcome.TIMEOUT if exc.timed_out else Outcome.ERROR), str(exc)
    return Outcome.FAILED, f"returned something unexpected ({type(exc).__name__}: {str(exc)[:200]})"
