"""End to end: the installed `grader` command grades a generated class, as an instructor would,
and every score is what the work deserves. The full student also proves the solutions score
full marks, and the untouched one that the stubs score zero, through the grading path."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader import registry
from grader.paths import EXERCISES, SOLUTIONS

pytestmark = pytest.mark.slow  # graded classes through the real path: make quick leaves them out

POINTS = {e.module: e.points for e in registry.load()}
SLOW = ("training.py", "transfer.py")  # stubbed where not needed, to keep the run short


def modules(done: tuple[str, ...] | None = None) -> dict[str, str]:
    """Solutions for the modules in `done` (all when None), stubs for the rest."""
    chosen = {}
    for module in POINTS:
        source = SOLUTIONS if done is None or module in done else EXERCISES
        chosen[module] = (source / module).read_text()
    return chosen


def write(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text)


@pytest.fixture(scope="module")
def graded(tmp_path_factory, isolation) -> tuple[dict, Path]:
    klass = tmp_path_factory.mktemp("class")
    most = tuple(m for m in POINTS if m not in SLOW)
    write(klass / "full", modules())
    write(klass / "partial", modules(("operations.py", "lenet.py", "loss_backprop.py")))
    broken = modules(most)
    broken["lenet.py"] = broken["lenet.py"].replace("def forward(self, x):", "def forward(self, x)", 1)
    write(klass / "syntax_error", broken)
    looping = modules(most)
    looping["lenet.py"] = looping["lenet.py"].replace("def forward(self, x):",
                                                      "def forward(self, x):\n        while True:\n            pass", 1)
    write(klass / "infinite_loop", looping)
    with zipfile.ZipFile(klass / "zipped.zip", "w") as archive:
        for name, text in modules(("data_loading.py",)).items():
            archive.writestr(f"zipped/exercises/{name}", text)
    write(klass / "not_started", modules(()))
    out = tmp_path_factory.mktemp("out")
    grader = Path(sys.executable).parent / "grader"
    proc = subprocess.run(
        [str(grader), "score", str(klass), "--jobs", "2", "--no-cache", "--timeout", "600", "--test-timeout", "20",
         "--json", str(out / "grades.json"), "--csv", str(out / "grades.csv")],
        capture_output=True, text=True, timeout=1500,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads((out / "grades.json").read_text()), out


def by_student(data: dict) -> dict[str, dict]:
    return {s["student"]: s for s in data["submissions"]}


def test_every_score_is_what_the_work_deserves(graded):
    data, _ = graded
    total = registry.max_points()
    without = lambda *mods: total - sum(POINTS[m] for m in mods)  # noqa: E731
    expected = {
        "full": total,
        "partial": POINTS["operations.py"] + POINTS["lenet.py"] + POINTS["loss_backprop.py"],
        "syntax_error": without("lenet.py", *SLOW),
        "infinite_loop": without("lenet.py", *SLOW),
        "zipped": POINTS["data_loading.py"],
        "not_started": 0,
    }
    scores = {name: s["score"] for name, s in by_student(data).items()}
    lost = {name: [(t["name"], t["status"], t["output"][:300]) for t in s["tests"] if t["score"] < t["max_score"]]
            for name, s in by_student(data).items() if scores[name] != expected[name]}
    assert scores == expected, lost
    assert data["max_score"] == total
    assert all(s["max_score"] == total for s in data["submissions"])


def test_statuses_and_messages(graded):
    students = by_student(graded[0])
    assert students["full"]["status"] == "graded"
    assert students["infinite_loop"]["status"] == "timeout"
    lenet = [t for t in students["syntax_error"]["tests"] if t["exercise"] == "lenet"]
    assert lenet and all("SyntaxError" in t["output"] for t in lenet)
    assert all(t["status"] == "not_started" for t in students["not_started"]["tests"])
    exercises = students["partial"]["exercises"]
    assert exercises["lenet"] == {"score": POINTS["lenet.py"], "max_score": POINTS["lenet.py"]}


def test_csv_gradebook(graded):
    _, out = graded
    rows = list(csv.DictReader((out / "grades.csv").open()))
    assert [r["student"] for r in rows] == sorted(["full", "partial", "syntax_error", "infinite_loop", "zipped",
                                                   "not_started"])
    full = next(r for r in rows if r["student"] == "full")
    assert float(full["total"]) == registry.max_points()
    assert all(float(full[e.id]) == e.points for e in registry.load())
