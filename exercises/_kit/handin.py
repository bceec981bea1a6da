"""`python exercises/kit.py handin`: check your work and pack it into one zip to hand in.

Part of the kit: no need to edit. The zip holds exactly what the grader reads: for each exercise
of exercises/registry.toml, the form you worked in (exercises/<module>.py, or the notebook
exercises/<module>.ipynb with its outputs cleared), under exercises/. Nothing is packed when a
file is missing, too large, or does not compile, since the grader could not use it; the message
says which file and line. `grader score` and a Gradescope upload both take the zip as it is.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path

from _kit import catalog, progress, summary, workspace
from _kit.catalog import EXERCISES_DIR

MAX_BYTES = 2 << 20  # what the grader reads of one file (grader.grading.discovery.MAX_MODULE_BYTES)
OUT = EXERCISES_DIR.parent / "handin" / "cnn-handin.zip"
KIT_FILES = {"conftest.py", "kit.py"}


class HandinError(Exception):
    """The work cannot be handed in as it is; the message says what to fix."""


def _cleared(path: Path) -> bytes:
    """A notebook without its outputs: they are not graded, and pictures can make it large."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None
    return (json.dumps(notebook, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def _problems(source: workspace.Source, data: bytes) -> list[str]:
    """Why the grader could not use this file (empty when it can)."""
    shown = f"exercises/{source.path.name}"
    if len(data) > MAX_BYTES:
        return [f"{shown} is {len(data) >> 10} KiB, more than the grader reads ({MAX_BYTES >> 20} MiB): "
                "remove what it does not need (data, printed output)"]
    try:
        compile(source.code, shown, "exec", dont_inherit=True)
    except SyntaxError as exc:
        return [f"{source.where(exc.lineno or 1)} has a syntax error ({exc.msg}): the grader would give this exercise no "
                "points; fix it, then hand in again"]
    except ValueError as exc:  # a NUL byte, say
        return [f"{shown} cannot be compiled ({exc})"]
    return []


def contents() -> tuple[dict[str, bytes], list[str], list[str]]:
    """The zip's members (name -> bytes), the problems that stop the hand-in, and warnings."""
    members: dict[str, bytes] = {}
    problems: list[str] = []
    warnings: list[str] = []
    for exercise in catalog.exercises():
        source = workspace.resolve(exercise)
        if not source.path.is_file():
            problems.append(f"exercises/{exercise.module} is missing: restore it with `git checkout exercises/{exercise.module}`")
            continue
        data = source.path.read_bytes() if source.form == "file" else _cleared(source.path)
        problems += _problems(source, data)
        members[f"exercises/{source.path.name}"] = data
        if workspace.both_changed(exercise):
            warnings.append(f"you changed both exercises/{exercise.module} and its notebook: the .py file is handed in")
    expected = {e.module for e in catalog.exercises()}
    extra = sorted(p.name for p in EXERCISES_DIR.glob("*.py")
                   if p.name not in expected | KIT_FILES and not p.name.startswith("test_"))
    if extra:
        warnings.append(f"{', '.join(extra)} {'is' if len(extra) == 1 else 'are'} not handed in: the grader reads only the "
                        "exercises' own files, so code your exercises need must live in them")
    return members, problems, warnings


def write(members: dict[str, bytes], out: Path) -> None:
    """Write the zip atomically and read it back, so that a broken zip is never left in place."""
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=out.parent, suffix=".zip.tmp")
    os.close(handle)
    try:
        with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in members.items():
                archive.writestr(name, data)
        with zipfile.ZipFile(temporary) as archive:
            if archive.testzip() is not None or sorted(archive.namelist()) != sorted(members):
                raise HandinError(f"the zip written to {out.parent} does not read back: try again")
        os.replace(temporary, out)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def pack(out: str | None = None) -> list[str]:
    """Check the work, write the zip; return what to tell the student. Raises HandinError instead of
    writing anything when a file cannot be graded."""
    members, problems, warnings = contents()
    if problems:
        raise HandinError("\n  ".join(["nothing was packed, because:", *problems]))
    target = Path(out) if out else OUT
    write(members, target)
    state = progress.load()
    standings = {s.exercise.id: s for s in (summary.standing(e, state) for e in catalog.exercises())}
    shown = os.path.relpath(target) if target.is_absolute() and Path.cwd() in target.parents else str(target)
    lines = [f"Packed {len(members)} files into {shown}:"]
    for exercise in catalog.exercises():
        name = f"exercises/{workspace.resolve(exercise).path.name}"
        s = standings[exercise.id]
        lines.append(f"  {name.ljust(30)} visible checks {s.passed}/{s.total}, {s.status.value}")
    untouched = [e for e in catalog.exercises() if workspace.resolve(e).untouched]
    if untouched:
        one = len(untouched) == 1
        warnings.insert(0, f"{len(untouched)} exercise{'' if one else 's'} not started yet {'is' if one else 'are'} handed in "
                           f"as {'it is' if one else 'they are'} and score{'s' if one else ''} 0")
    lines += [f"Note: {warning}" for warning in warnings]
    lines.append(f"Hand in this one file, {shown}, as your instructor asks (on Gradescope: upload it as it is). "
                 "The grader runs stricter hidden checks on it.")
    return lines
