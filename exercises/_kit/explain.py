"""Turn what went wrong in a check into a few lines a student can act on.

Part of the kit: no need to edit. An error raised deep inside torch keeps its context: what the
check called (with the shapes of the tensors it passed), the error's last line, and the line
of the student's code it came from, with the shapes of the tensors and the layers named there.
"""

from __future__ import annotations

import enum
import linecache
import re
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, ModuleType, TracebackType
from typing import Any

import torch

from _kit.checks import CheckFailed, StudentModuleError, loaded_source

NOT_STARTED = "not started yet"
_NAME = re.compile(r"(?<![\w.])[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
_SKIP_NAMES = {"self", "True", "False", "None", "torch", "nn", "F", "np", "math", "print", "len", "range"}


class Kind(enum.Enum):
    """How a check ended when it did not pass."""

    NOT_STARTED = "not started yet"
    FAILED = "failed"  # the check's own verdict (expect_*)
    ERROR = "error"  # the student's code raised
    TIMEOUT = "timeout"
    IMPORT = "cannot import"


class CheckTimeout(Exception):
    """A check ran longer than its time limit."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(f"ran for more than {seconds:g} s")


@dataclass(frozen=True)
class Explanation:
    """The student-facing account of one failed check, without its hint."""

    kind: Kind
    text: str


@dataclass(frozen=True)
class _Frame:
    frame: FrameType
    summary: traceback.FrameSummary


def _frames(tb: TracebackType | None) -> list[_Frame]:
    frames: list[_Frame] = []
    for summary, (frame, _) in zip(traceback.extract_tb(tb), traceback.walk_tb(tb)):
        frames.append(_Frame(frame, summary))
    return frames


def _is_student(frame: FrameType) -> bool:
    return loaded_source(frame.f_globals)[0]


def _where(f: _Frame) -> str:
    """"exercises/lenet.py, line 12, in Net.forward" (or the notebook cell it came from)."""
    known, source = loaded_source(f.frame.f_globals)
    name = getattr(f.frame.f_code, "co_qualname", f.summary.name)
    if source is not None:
        place = source.where(f.summary.lineno or 1)
    elif known:
        place = f"your notebook's code, line {f.summary.lineno} of its cell"
    else:
        place = f"{Path(f.summary.filename).name}, line {f.summary.lineno}"
    return f"{place}, in {name}" if name != "<module>" else place


def describe(value: Any) -> str | None:
    """A short description of a value worth showing (a tensor's shape, a layer), or None."""
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}" + ("" if value.dtype == torch.float32 else f" ({value.dtype})")
    if isinstance(value, torch.nn.Module):
        return None if list(value.children()) else repr(value)  # a layer, not a whole network
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (tuple, list)) and 0 < len(value) <= 6 and all(isinstance(v, (int, float)) for v in value):
        return repr(value)
    return None


def _lookup(frame: FrameType, dotted: str) -> Any:
    head, *rest = dotted.split(".")
    scope = frame.f_locals if head in frame.f_locals else frame.f_globals
    if head not in scope:
        raise LookupError(dotted)
    value = scope[head]
    for attribute in rest:
        if isinstance(value, ModuleType):
            raise LookupError(dotted)
        value = getattr(value, attribute)
    return value


def named_values(frame: FrameType, code: str, limit: int = 4) -> list[str]:
    """"x: a tensor of shape (1, 576)" for the tensors, layers and numbers that `code` names."""
    found: list[str] = []
    for dotted in dict.fromkeys(_NAME.findall(code)):
        if dotted in _SKIP_NAMES or dotted.split(".")[0] in ("torch", "nn", "F", "np", "math"):
            continue
        try:
            shown = describe(_lookup(frame, dotted))
        except Exception:  # a property of the student's object may raise anything
            continue
        if shown is not None:
            found.append(f"{dotted} is {shown}"[:120])
        if len(found) == limit:
            break
    return found


def _expression(f: _Frame) -> str:
    """The part of the frame's line being run when it stopped (Python 3.11 knows the columns)."""
    s = f.summary
    if s.lineno and s.end_lineno == s.lineno and s.colno is not None and s.end_colno is not None:
        line = linecache.getline(s.filename, s.lineno)
        piece = line[s.colno : s.end_colno].strip()
        if piece:
            return piece
    return (s.line or "").strip()


def _error_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    useful = [line for line in lines if not line.startswith(("frame #", "Exception raised from"))]
    return (useful[-1] if useful else "") or type(exc).__name__


def _context(frames: list[_Frame], check_file: str | None) -> list[str]:
    """What the check called, and where in the student's code it stopped."""
    lines: list[str] = []
    calls = [f for f in frames if check_file and Path(f.summary.filename).name == Path(check_file).name]
    mine = [f for f in frames if _is_student(f.frame)]
    if calls:
        call = calls[-1]
        expression = _expression(call)
        lines.append(f"the check called: {expression}")
        lines += [f"    {text}" for text in named_values(call.frame, expression)]
    if mine:
        last = mine[-1]
        code = (last.summary.line or "").strip()
        lines.append(f"in your code, {_where(last)}:")
        lines.append(f"    {code}")
        lines += [f"    {text}" for text in named_values(last.frame, code)]
    return lines


def _missing_name(exc: BaseException) -> str | None:
    """A message when the check asked the student's module for a name it lacks (renamed, deleted)."""
    owner = getattr(exc, "obj", None)
    if not isinstance(exc, AttributeError) or not isinstance(owner, ModuleType):
        return None
    known, source = loaded_source(vars(owner))
    if not known:
        return None
    where = f"exercises/{source.path.name}" if source is not None else "your notebook"
    return (f"{where} has no {exc.name}, and the check calls it: was it renamed or deleted? Its docstring is in the "
            "untouched exercise (git shows it: git diff exercises/)")


def explain(exc: BaseException, check_file: str | None = None) -> Explanation:
    """A student-facing account of `exc`, raised while running a check of `check_file`."""
    if isinstance(exc, StudentModuleError):
        return Explanation(Kind.IMPORT, str(exc))
    frames = _frames(exc.__traceback__)
    mine = [f for f in frames if _is_student(f.frame)]
    if isinstance(exc, CheckFailed):
        text = exc.message + (f"\n{exc.hint}" if exc.hint else "")
        if mine:
            text += f"\n(your code, {_where(mine[-1])}: {(mine[-1].summary.line or '').strip()})"
        return Explanation(Kind.FAILED, text)
    if isinstance(exc, NotImplementedError) and mine:
        where = _where(mine[-1]).split(", in ")
        name = where[1] if len(where) > 1 else "your code"
        return Explanation(Kind.NOT_STARTED, f"{NOT_STARTED}: {name} in {where[0].split(',')[0]} still raises NotImplementedError")
    missing = _missing_name(exc)
    if missing:
        return Explanation(Kind.FAILED, missing)
    if isinstance(exc, CheckTimeout):
        calls = [f for f in frames if check_file and Path(f.summary.filename).name == Path(check_file).name]
        what = _expression(calls[-1]) if calls else "the check"
        lines = [f"{what} ran for more than {exc.seconds:g} s: an endless loop?"]
        if mine:
            lines.append(f"it was running {_where(mine[-1])}:")
            lines.append(f"    {(mine[-1].summary.line or '').strip()}")
        return Explanation(Kind.TIMEOUT, "\n".join(lines))
    inside = " inside torch" if frames and not _is_student(frames[-1].frame) and "torch" in Path(frames[-1].summary.filename).parts else ""
    if mine:
        head = f"your code raised {type(exc).__name__}{inside}: {_error_line(exc)}"
    else:  # the check itself stumbled on what the student's code gave back (a layer that cannot take the input, say)
        head = f"{type(exc).__name__}{inside} on what your code gave back: {_error_line(exc)}"
    return Explanation(Kind.ERROR, "\n".join([head, *_context(frames, check_file)]))
