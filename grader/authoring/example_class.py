"""The bundled example class, generated from the solutions and stubs so it never drifts:
a full-marks student, a partial one, a broken one and one who has not started (as a zip)."""

from __future__ import annotations

import zipfile
from pathlib import Path

from grader import registry
from grader.paths import EXERCISES, SOLUTIONS

PARTIAL_DONE = ("operations.py", "lenet.py", "loss_backprop.py")


def _modules(source: Path) -> dict[str, str]:
    return {m: (source / m).read_text(encoding="utf-8") for m in registry.student_modules()}


def build(target: Path) -> Path:
    """Write the example class into `target` (replacing what was there) and return it."""
    target.mkdir(parents=True, exist_ok=True)
    solutions, stubs = _modules(SOLUTIONS), _modules(EXERCISES)
    students = {
        "ada_full": solutions,
        "grace_partial": {m: solutions[m] if m in PARTIAL_DONE else stubs[m] for m in stubs},
        "linus_broken": {
            **solutions,
            "lenet.py": solutions["lenet.py"].replace("super().__init__()", "super().__init__(", 1),
            "transfer.py": "import sys\nsys.exit(0)\n" + solutions["transfer.py"],
        },
    }
    for student, modules in students.items():
        folder = target / student
        folder.mkdir(exist_ok=True)
        for name, text in modules.items():
            (folder / name).write_text(text, encoding="utf-8")
    with zipfile.ZipFile(target / "margaret_not_started.zip", "w") as archive:
        for name, text in stubs.items():
            archive.writestr(f"exercises/{name}", text)
    return target
