"""nbgrader's own path on the same work as bench/run.py's mixed class: export the kit as
notebooks, generate the assignment, fill submissions from the release, time `nbgrader autograde`."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from grader import registry
from grader.integrations import nbgrader_export

BIN = Path(sys.executable).parent
ASSIGNMENT = "cnn"


def nbgrader(course: Path, *args: str) -> None:
    jupyter = course.parent / "jupyter"
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "JUPYTER_DATA_DIR": str(jupyter / "data"), "JUPYTER_CONFIG_DIR": str(jupyter / "config")}
    subprocess.run([str(BIN / "nbgrader"), *args], cwd=course, env=env, check=True, capture_output=True)


def submit(course: Path, student: str, solved: set[str]) -> None:
    """submitted/<student>/cnn/: release notebooks, with the exercises in `solved` answered."""
    folder = course / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True)
    for exercise in registry.load():
        released = nbformat.read(course / "release" / ASSIGNMENT / f"{exercise.id}.ipynb", 4)
        if exercise.id in solved:
            source = nbformat.read(course / "source" / ASSIGNMENT / f"{exercise.id}.ipynb", 4)
            answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells
                       if c.metadata.get("nbgrader", {}).get("solution")}
            for cell in released.cells:
                grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
                if grade_id in answers:
                    cell.source = answers[grade_id]
        nbformat.write(released, folder / f"{exercise.id}.ipynb")


def autograde_per_submission(size: int) -> dict[str, float]:
    """Seconds per submission of `nbgrader autograde` over a class mixed like bench/run.py's."""
    ids = [e.id for e in registry.load()]
    with tempfile.TemporaryDirectory() as tmp:
        course = Path(tmp) / "course"
        nbgrader_export.export(course, ASSIGNMENT)
        nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
        for i in range(size):
            kind = ("full", "partial", "stub")[i % 3]
            solved = set(ids) if kind == "full" else set(ids[: len(ids) // 2]) if kind == "partial" else set()
            submit(course, f"{kind}_{i:02d}", solved)
        started = time.monotonic()
        nbgrader(course, "autograde", ASSIGNMENT, "--force")
        wall = time.monotonic() - started
    return {"submissions": size, "wall_s": wall, "per_submission_s": wall / size}
