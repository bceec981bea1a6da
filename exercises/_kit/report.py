"""Turn a failing visible check into a short message, and summarise progress after a run."""

from __future__ import annotations

import tomllib
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from _kit.checks import EXERCISES_DIR, PICTURES_DIR, CheckFailed, StudentModuleError

REGISTRY = EXERCISES_DIR / "registry.toml"
NOT_STARTED = "not started yet"


@dataclass(frozen=True)
class Exercise:
    """The registry fields the student-side summary needs."""

    id: str
    title: str
    module: str
    hints: tuple[str, ...]

    @property
    def test_file(self) -> str:
        return f"test_{self.module}"


def load_exercises() -> list[Exercise]:
    """The exercises, in the registry's order."""
    raw = tomllib.loads(REGISTRY.read_text(encoding="utf-8"))
    return [Exercise(e["id"], e["title"], e["module"], tuple(e.get("hints", ()))) for e in raw["exercise"]]


def student_files() -> set[str]:
    """Absolute paths of the student modules."""
    return {str(EXERCISES_DIR / e.module) for e in load_exercises()}


def explain(exc: BaseException, tb: traceback.StackSummary | None = None) -> tuple[str, bool]:
    """A student-facing message for an exception, and whether it means "not started yet"."""
    if isinstance(exc, CheckFailed):
        return str(exc), False
    if isinstance(exc, StudentModuleError):
        return str(exc), False
    frames = traceback.extract_tb(exc.__traceback__) if tb is None else tb
    mine = [f for f in frames if f.filename in student_files()]
    if isinstance(exc, NotImplementedError) and mine:
        where = mine[-1]
        return f"{NOT_STARTED}: {where.name}() in exercises/{Path(where.filename).name} still raises NotImplementedError", True
    if mine:
        where = mine[-1]
        return (
            f"exercises/{Path(where.filename).name}, line {where.lineno}, in {where.name}: "
            f"{type(exc).__name__}: {exc}\n    {where.line}"
        ), False
    return f"{type(exc).__name__}: {exc}", False


@dataclass
class Tally:
    """Visible-check outcomes of one exercise."""

    passed: int = 0
    failed: int = 0
    not_started: int = 0
    first_failure: tuple[str, str] | None = field(default=None)

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.not_started

    @property
    def status(self) -> str:
        if self.total and self.passed == self.total:
            return "done"
        if self.not_started == self.total:
            return NOT_STARTED
        return "in progress"


def progress_lines(tallies: dict[str, Tally]) -> list[str]:
    """The progress table and the next thing to do, as lines of text."""
    exercises = [e for e in load_exercises() if e.test_file in tallies]
    if not exercises:
        return []
    width = max(len(e.module) for e in exercises)
    marks = {"done": "✔", "in progress": "…", NOT_STARTED: "·"}
    lines = [f"  {'exercise'.ljust(width)}  checks   status"]
    done = 0
    for e in exercises:
        t = tallies[e.test_file]
        done += t.status == "done"
        lines.append(f"{marks[t.status]} {e.module.ljust(width)}  {t.passed:>2}/{t.total:<3}  {t.status}")
    lines.append(f"Progress: {done}/{len(exercises)} exercises done.")
    upcoming = next((e for e in exercises if tallies[e.test_file].status != "done"), None)
    if upcoming is None:
        lines.append("All done. Well played!")
        return lines
    t = tallies[upcoming.test_file]
    lines.append(f"Next: exercises/{upcoming.module} ({upcoming.title}).")
    if t.first_failure:
        check, message = t.first_failure
        lines.append(f"  First failing check: {check}")
        lines.append(f"    {message.splitlines()[0]}")
    if upcoming.hints:
        lines.append(f"  Hint: {upcoming.hints[0]}")
    lines.append(f"  Run just this one: pytest exercises/{upcoming.test_file}")
    return lines


def picture_lines(since: float) -> list[str]:
    """The pictures the checks saved during this run (modified after `since`), to open."""
    saved = sorted(p for p in PICTURES_DIR.glob("*.png") if p.stat().st_mtime >= since) if PICTURES_DIR.is_dir() else []
    return [f"Pictures from your code (open them): {', '.join(f'exercises/pictures/{p.name}' for p in saved)}"] if saved else []
