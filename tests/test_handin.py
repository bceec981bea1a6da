"""The hand-in: one zip of exactly the files the grader takes, checked first, that `grader score` and
Gradescope's autograder both grade as they find it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from grader import registry
from grader.authoring import stubs
from grader.grading import discovery
from grader.grading.options import GradeOptions
from grader.integrations import gradescope_bundle
from grader.integrations.nbgrader_export import split_module
from grader.paths import DATA, EXERCISES, SOLUTIONS

sys.path.insert(0, str(EXERCISES))  # the kit is imported as `_kit`, as in exercises/
from _kit import handin  # noqa: E402


@pytest.fixture
def kit(tmp_path: Path) -> Path:
    shutil.copytree(EXERCISES, tmp_path / "exercises", ignore=shutil.ignore_patterns("__pycache__", ".progress.json",
                                                                                     ".pytest_cache", "pictures"))
    return tmp_path


def run_handin(kit: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "exercises/kit.py", "handin"], cwd=kit, capture_output=True, text=True,
                          env={**os.environ, "CNN_KIT_DATA": str(DATA)}, timeout=300)


def work_in_the_notebook(kit: Path, exercise_id: str) -> None:
    """Type the solution into the notebook's task cells, with an output left in a cell, as a student would."""
    exercise = registry.by_id(exercise_id)
    path = kit / "exercises" / f"{exercise.stem}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    answers = [code for _, code in split_module(stubs.split_hints((SOLUTIONS / exercise.module).read_text())[0])[1]]
    tasks = [c for c in notebook.cells if c.metadata.get("cnn_kit", {}).get("role") == "task"]
    for cell, code in zip(tasks, answers, strict=True):
        cell.source = code
        cell.outputs = [nbformat.v4.new_output("stream", text="some output\n")]
    nbformat.write(notebook, path)


def test_handin_packs_exactly_what_the_grader_takes_and_both_graders_accept_it(kit, tmp_path, isolation):
    shutil.copy(SOLUTIONS / "operations.py", kit / "exercises" / "operations.py")
    work_in_the_notebook(kit, "lenet")
    (kit / "exercises" / "helpers.py").write_text("x = 1\n")
    done = run_handin(kit)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Packed {len(registry.load())} files into handin/cnn-handin.zip" in done.stdout
    assert "helpers.py is not handed in" in done.stdout
    untouched = len(registry.load()) - 2  # all but operations and lenet
    assert f"Note: {untouched} exercises not started yet are handed in as they are and score 0" in done.stdout
    assert "exercises/lenet.ipynb" in done.stdout
    archive = kit / "handin" / "cnn-handin.zip"
    expected = {f"exercises/{e.module}" for e in registry.load() if e.id != "lenet"} | {"exercises/lenet.ipynb"}
    with zipfile.ZipFile(archive) as zipped:
        assert set(zipped.namelist()) == expected
        notebook = json.loads(zipped.read("exercises/lenet.ipynb"))
        assert all(not c.get("outputs") for c in notebook["cells"] if c["cell_type"] == "code"), "outputs are cleared"
        assert zipped.read("exercises/operations.py") == (SOLUTIONS / "operations.py").read_bytes()

    klass = tmp_path / "class"
    klass.mkdir()
    shutil.copy(archive, klass / "alice.zip")
    out = tmp_path / "grades.json"
    graded = subprocess.run([str(Path(sys.executable).parent / "grader"), "score", str(klass), "-e", "lenet", "-e",
                             "operations", "-e", "from_scratch", "--jobs", "2", "--no-cache", "--json", str(out)],
                            capture_output=True, text=True, timeout=900)
    assert graded.returncode == 0, graded.stdout + graded.stderr
    alice = json.loads(out.read_text())["submissions"][0]
    scores = {exercise: result["score"] for exercise, result in alice["exercises"].items()}
    points = {e.id: e.points for e in registry.load()}
    assert scores == {"lenet": points["lenet"], "operations": points["operations"], "from_scratch": 0}, alice

    root = tmp_path / "autograder"  # Gradescope unzips an upload into /autograder/submission
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(root / "submission")
    (root / "results").mkdir()
    document = gradescope_bundle.run(root, GradeOptions(isolation=isolation))
    lenet = [t for t in document["tests"] if t["name"].startswith("lenet:")]
    assert lenet and all(t["status"] == "passed" for t in lenet)
    assert json.loads((root / "results" / "results.json").read_text())["score"] == document["score"] > 0


@pytest.mark.parametrize("breakage, message", [
    (lambda kit: (kit / "exercises" / "lenet.py").write_text("def broken(:\n"),
     "exercises/lenet.py, line 1 has a syntax error"),
    (lambda kit: (kit / "exercises" / "lenet.py").write_text("x = 1\n" + "# padding\n" * 300_000),
     "exercises/lenet.py is 2929 KiB, more than the grader reads (2 MiB)"),
    (lambda kit: ((kit / "exercises" / "lenet.py").unlink(), (kit / "exercises" / "lenet.ipynb").unlink()),
     "exercises/lenet.py is missing: restore it with `git checkout exercises/lenet.py`"),
])
def test_handin_refuses_what_the_grader_could_not_use(kit, breakage, message):
    breakage(kit)
    done = run_handin(kit)
    assert done.returncode == 1
    assert "Not handed in: nothing was packed, because:" in done.stdout and message in done.stdout, done.stdout
    assert not (kit / "handin").exists() or not any((kit / "handin").iterdir())


def test_the_kit_reads_no_more_of_a_file_than_the_grader():
    assert handin.MAX_BYTES == discovery.MAX_MODULE_BYTES


def test_the_release_says_what_to_hand_in_and_its_handin_command_works(tmp_path):
    from grader.authoring import release

    release.build(tmp_path / "rel")
    readme = (tmp_path / "rel" / "README.md").read_text()
    assert "## What to hand in, and how" in readme and "python exercises/kit.py handin" in readme
    assert "handin/cnn-handin.zip" in readme and "on Gradescope, upload" in readme
    assert f"{len(registry.load())} exercises" in readme
    assert "pytest-timeout" in (tmp_path / "rel" / "requirements.txt").read_text()
    assert not (tmp_path / "rel" / "pytest.ini").exists(), "exercises/pytest.ini is the student side's config"
    done = run_handin(tmp_path / "rel")
    assert done.returncode == 0, done.stdout + done.stderr
    with zipfile.ZipFile(tmp_path / "rel" / "handin" / "cnn-handin.zip") as zipped:
        assert sorted(zipped.namelist()) == sorted(f"exercises/{e.module}" for e in registry.load())
