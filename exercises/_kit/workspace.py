"""Where a student's work on an exercise lives: exercises/<module>.py or exercises/<module>.ipynb.

Part of the kit: no need to edit. Each exercise comes in two forms; write it in either. The
form you worked in is the one the checks, the progress, the watch mode and the hand-in use:
the .py file, unless it is still untouched and the notebook is not. A notebook counts as its
code cells in order (the kit's own setup, check and progress cells left out), with IPython
commands (%magic, !shell) turned into `pass`, as a grader runs it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from _kit.catalog import Exercise, text_sha256

KIT_ROLES = ("setup", "check", "progress")  # the notebook cells that belong to the kit
KIT_MARK = "_kit.notebook"  # and any cell that calls it


@dataclass(frozen=True)
class Source:
    """The code of one exercise in the form the student worked in."""

    exercise: Exercise
    form: Literal["file", "notebook"]
    path: Path
    code: str
    cell_lines: tuple[tuple[int, int], ...] = ()  # notebook: (first line in `code`, cell number), in order

    @property
    def fingerprint(self) -> str:
        """Changes whenever the work or the exercise's checks change."""
        checks = self.exercise.test_file.read_text(encoding="utf-8") if self.exercise.test_file.is_file() else ""
        return text_sha256(f"{self.form}\n{self.code}\n{checks}")

    @property
    def untouched(self) -> bool:
        """True while the student has not changed the generated stub."""
        generated = self.exercise.generated
        if self.form == "file":
            return text_sha256(self.code) == generated.stub_sha256
        return notebook_fingerprint(self.path) == generated.notebook_sha256

    def where(self, line: int) -> str:
        """Where line `line` of `code` is, for a student: "exercises/lenet.py, line 12" or a notebook cell."""
        if self.form == "file":
            return f"exercises/{self.path.name}, line {line}"
        first, cell = max((c for c in self.cell_lines if c[0] <= line), default=(1, 1))
        return f"exercises/{self.path.name}, cell {cell}, line {line - first + 1}"


def resolve(exercise: Exercise) -> Source:
    """The form of `exercise` the student works in (see the module's docstring)."""
    file = _file_source(exercise)
    if file is not None and not file.untouched:
        return file
    notebook = notebook_source(exercise)
    if notebook is not None and not notebook.untouched:
        return notebook
    if file is not None:
        return file
    return notebook or Source(exercise, "file", exercise.path, "")


def both_changed(exercise: Exercise) -> bool:
    """True when the student changed the .py file and the notebook: only the .py counts."""
    file, notebook = _file_source(exercise), notebook_source(exercise)
    return bool(file and notebook and not file.untouched and not notebook.untouched)


def _file_source(exercise: Exercise) -> Source | None:
    try:
        return Source(exercise, "file", exercise.path, exercise.path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return None


def _cells(path: Path) -> list[dict[str, Any]] | None:
    try:
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells")
    except (OSError, ValueError, AttributeError):
        return None
    return [c for c in cells if isinstance(c, dict)] if isinstance(cells, list) else None


def _text(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _role(cell: dict[str, Any]) -> str:
    meta = cell.get("metadata")
    kit = meta.get("cnn_kit") if isinstance(meta, dict) else None
    return str(kit.get("role", "")) if isinstance(kit, dict) else ""


def is_student_cell(cell: dict[str, Any]) -> bool:
    """A code cell that holds the student's code (not one of the kit's cells)."""
    return cell.get("cell_type") == "code" and _role(cell) not in KIT_ROLES and KIT_MARK not in _text(cell)


def notebook_fingerprint(path: Path) -> str:
    """The fingerprint of a notebook's student cells: equal to the generated one while untouched."""
    cells = _cells(path)
    if cells is None:
        return ""
    return text_sha256(json.dumps([_text(c) for c in cells if is_student_cell(c)]))


def without_magics(code: str) -> str:
    """IPython commands (%magic, !shell) as `pass` lines: a kernel runs them, a module cannot."""
    lines = []
    for line in code.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            line = f"{line[: len(line) - len(stripped)]}pass  # notebook command: {stripped}"
        lines.append(line)
    return "\n".join(lines)


def notebook_source(exercise: Exercise) -> Source | None:
    """The code of exercises/<module>.ipynb, or None if there is no readable notebook."""
    cells = _cells(exercise.notebook)
    if cells is None:
        return None
    parts: list[str] = []
    starts: list[tuple[int, int]] = []
    line = 1
    for number, cell in enumerate(cells, start=1):
        if not is_student_cell(cell) or not _text(cell).strip():
            continue
        code = without_magics(_text(cell)).rstrip("\n") + "\n"
        starts.append((line, number))
        parts.append(code)
        line += code.count("\n") + 1
    return Source(exercise, "notebook", exercise.notebook, "\n".join(parts), tuple(starts))
