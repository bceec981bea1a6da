"""Generate student stubs from reference solutions.

A solution marks the code a student must write with nbgrader's markers::

    ### BEGIN SOLUTION
    ...
    ### END SOLUTION

The stub keeps everything else (docstrings are the instructions) and replaces each region
with a ``raise NotImplementedError`` at the region's indentation, as nbgrader does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader import registry
from grader.paths import EXERCISES, SOLUTIONS

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
PLACEHOLDER = ("# YOUR CODE HERE", 'raise NotImplementedError("not started yet")')


class RegionError(ValueError):
    """Solution markers are unbalanced or nested."""


def make_stub(source: str, filename: str = "<solution>") -> str:
    """Replace every solution region of `source` with the not-started placeholder."""
    out: list[str] = []
    in_region = False
    start_line = 0
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        marker = line.strip()
        if marker == BEGIN:
            if in_region:
                raise RegionError(f"{filename}:{number}: {BEGIN} inside another region (opened at line {start_line})")
            in_region, start_line = True, number
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(f"{indent}{text}\n" for text in PLACEHOLDER)
        elif marker == END:
            if not in_region:
                raise RegionError(f"{filename}:{number}: {END} without {BEGIN}")
            in_region = False
        elif not in_region:
            out.append(line)
    if in_region:
        raise RegionError(f"{filename}:{start_line}: {BEGIN} is never closed")
    return "".join(out)


def count_regions(source: str) -> int:
    """How many solution regions `source` holds."""
    return sum(1 for line in source.splitlines() if line.strip() == BEGIN)


@dataclass(frozen=True)
class StubDrift:
    """A generated stub that differs from the file in exercises/."""

    module: str
    reason: str


def expected_stubs(solutions: Path = SOLUTIONS) -> dict[str, str]:
    """Each registry module's stub text, generated from its solution."""
    stubs = {}
    for module in registry.student_modules():
        path = solutions / module
        stubs[module] = make_stub(path.read_text(encoding="utf-8"), str(path))
    return stubs


def write_stubs(solutions: Path = SOLUTIONS, exercises: Path = EXERCISES) -> list[str]:
    """Regenerate the stubs in `exercises`; return the modules that changed."""
    changed = []
    for module, text in expected_stubs(solutions).items():
        target = exercises / module
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
            changed.append(module)
    return changed


def check_stubs(solutions: Path = SOLUTIONS, exercises: Path = EXERCISES) -> list[StubDrift]:
    """The stubs in `exercises` that are out of sync with `solutions`."""
    drift = []
    for module, text in expected_stubs(solutions).items():
        target = exercises / module
        if not target.exists():
            drift.append(StubDrift(module, "missing"))
        elif target.read_text(encoding="utf-8") != text:
            drift.append(StubDrift(module, "differs from the stub generated from solutions/"))
    return drift
