"""Checks that fail with a sentence a student can act on, instead of a bare assert.

Every helper names what was called, what came back and what was expected, and can add a
hint. The conftest shows these messages without a traceback.
"""

from __future__ import annotations

import linecache
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Sequence

import torch

from _kit import catalog, workspace
from _kit.workspace import Source


class CheckFailed(AssertionError):
    """A check did not hold; the message is meant for the student."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message}\n  hint: {hint}" if hint else message)


class StudentModuleError(Exception):
    """A student module could not be imported (syntax error, bad import, ...)."""


_NAMESPACES: dict[str, Any] = {}
_LOADED: dict[int, Source | None] = {}  # id(module globals) -> where the code came from (None: a notebook kernel)


def use_namespace(name: str, module: Any) -> None:
    """Make student(name) return `module` (a notebook's namespace), or stop when it is None."""
    if module is None:
        gone = _NAMESPACES.pop(name, None)
        if gone is not None:
            _LOADED.pop(id(vars(gone)), None)
    else:
        _NAMESPACES[name] = module
        _LOADED[id(vars(module))] = None


def loaded_source(namespace: dict[str, Any]) -> tuple[bool, Source | None]:
    """Whether `namespace` holds student code, and where that code came from (None for a notebook kernel)."""
    key = id(namespace)
    return key in _LOADED, _LOADED.get(key)


def student(name: str) -> ModuleType:
    """The student's module for exercise `name`, from the form they work in (the .py file or the
    notebook), turning import failures into a one-line explanation."""
    if name in _NAMESPACES:
        return _NAMESPACES[name]
    key = f"_student_{name}"
    if key in sys.modules:
        return sys.modules[key]
    exercise = catalog.by_name(name)
    if exercise is None:
        raise StudentModuleError(f"exercises/registry.toml lists no exercise {name!r}")
    source = workspace.resolve(exercise)
    shown = f"exercises/{source.path.name}"
    if not source.path.exists():
        raise StudentModuleError(f"{shown} is missing: restore it with `git checkout {shown}`")
    module = ModuleType(key)
    module.__file__ = filename = str(source.path)
    linecache.cache[filename] = (len(source.code), None, source.code.splitlines(True), filename)  # tracebacks show this code
    _LOADED[id(module.__dict__)] = source
    sys.modules[key] = module  # as an import does: classes of the module can find it while it runs
    try:
        exec(compile(source.code, filename, "exec", dont_inherit=True), module.__dict__)
    except SyntaxError as exc:
        del sys.modules[key]
        raise StudentModuleError(f"{source.where(exc.lineno or 1)} has a syntax error: {exc.msg}") from None
    except Exception as exc:  # the student's module-level code failed
        del sys.modules[key]
        line = _last_line(exc, module.__dict__)
        where = source.where(line) if line else shown
        raise StudentModuleError(f"importing {where} raised {type(exc).__name__}: {exc}") from None
    return module


def _last_line(exc: BaseException, namespace: dict[str, Any]) -> int | None:
    """The last line of the student's module that `exc` passed through."""
    tb, line = exc.__traceback__, None
    while tb is not None:
        if tb.tb_frame.f_globals is namespace:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def shape_of(value: Any) -> tuple[int, ...] | None:
    """The shape of a tensor as a plain tuple, or None for anything else."""
    return tuple(value.shape) if isinstance(value, torch.Tensor) else None


def expect(condition: bool, message: str, hint: str | None = None) -> None:
    """Fail with `message` (and `hint`) unless `condition` holds."""
    if not condition:
        raise CheckFailed(message, hint)


def expect_tensor(value: Any, what: str) -> torch.Tensor:
    """Fail unless `value`, the result of `what`, is a tensor."""
    expect(
        isinstance(value, torch.Tensor),
        f"{what} returned {type(value).__name__}, expected a torch.Tensor",
        "return the tensor itself, not a list, a number or None",
    )
    return value


def expect_shape(value: Any, expected: Sequence[int], what: str, hint: str | None = None) -> None:
    """Fail unless `value` is a tensor of shape `expected`."""
    got = shape_of(expect_tensor(value, what))
    expected = tuple(expected)
    expect(got == expected, f"{what} gave shape {got}, expected {expected}", hint)


def expect_close(
    value: Any,
    expected: torch.Tensor,
    what: str,
    hint: str | None = None,
    atol: float = 1e-5,
    rtol: float = 1e-4,
) -> None:
    """Fail unless `value` has `expected`'s shape and values, within tolerance."""
    expect_shape(value, expected.shape, what, hint)
    got = value.detach().to(expected.dtype).cpu()
    if not torch.allclose(got, expected, atol=atol, rtol=rtol, equal_nan=False):
        worst = (got - expected).abs().nan_to_num(float("inf")).max().item()
        raise CheckFailed(f"{what} has the right shape but wrong values (largest error {worst:.3g})", hint)


def expect_equal(value: Any, expected: Any, what: str, hint: str | None = None) -> None:
    """Fail unless `value == expected` (plain Python values)."""
    expect(value == expected, f"{what} gave {value!r}, expected {expected!r}", hint)


def expect_png(path: Path, what: str, min_size: tuple[int, int] = (200, 150)) -> None:
    """Fail unless `what` wrote a PNG image at `path`, at least `min_size` pixels, not blank."""
    from PIL import Image

    expect(path.exists(), f"{what} wrote no file at path", "finish with fig.savefig(path)")
    expect(path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{what} wrote a file that is not a PNG image",
           "fig.savefig(path, format='png')")
    with Image.open(path) as image:
        width, height = image.size
        grey = image.convert("L")
        ink = sum(grey.histogram()[:200]) / (width * height)
    expect(width >= min_size[0] and height >= min_size[1],
           f"{what} wrote a {width}x{height} image, expected at least {min_size[0]}x{min_size[1]}",
           "a figsize of a few inches at the default 100 dpi is plenty")
    expect(ink > 0.005, f"{what} wrote an (almost) blank image", "draw on the axes before saving the figure")
