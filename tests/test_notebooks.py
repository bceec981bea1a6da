"""The generated notebooks run as a student runs them (nbclient, a real kernel): as handed out, every
check cell says "not started yet"; with the solutions typed into the task cells, every check passes.
Then the grader grades a notebook as it grades the .py file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from grader import registry
from grader.grading import notebook_source
from grader.authoring import stubs
from grader.integrations.nbgrader_export import split_module
from grader.paths import DATA, EXERCISES, SOLUTIONS


@pytest.fixture(scope="module")
def kit(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("notebooks")
    shutil.copytree(EXERCISES, target / "exercises", ignore=shutil.ignore_patterns("__pycache__", ".progress.json",
                                                                                  ".pytest_cache", "pictures"))
    return target / "exercises"


def solved(notebook: nbformat.NotebookNode, exercise: registry.Exercise) -> nbformat.NotebookNode:
    """The notebook with the solution's code typed into its task cells, as a student who finished would."""
    source, _ = stubs.split_hints((SOLUTIONS / exercise.module).read_text())
    answers = [code for _, code in split_module(source)[1]]
    tasks = [c for c in notebook.cells if c.metadata.get("cnn_kit", {}).get("role") == "task"]
    assert len(tasks) == len(answers)
    for cell, code in zip(tasks, answers, strict=True):
        cell.source = code
    return notebook


def execute(kit: Path, notebook: nbformat.NotebookNode, monkeypatch) -> list[tuple[str, str]]:
    """Run every cell; return (role, printed text) for the kit's cells."""
    monkeypatch.setenv("CNN_KIT_DATA", str(DATA))
    NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(kit)}}).execute()
    shown = []
    for cell in notebook.cells:
        role = cell.metadata.get("cnn_kit", {}).get("role")
        if role in ("check", "progress"):
            text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
            errors = [o for o in cell.outputs if o.output_type == "error"]
            assert not errors, f"{role} cell raised: {errors[0].ename}: {errors[0].evalue}"
            shown.append((role, text))
    return shown


@pytest.mark.parametrize("exercise", registry.load(), ids=lambda e: e.id)
def test_the_notebook_as_handed_out_says_not_started_yet(kit, exercise, monkeypatch):
    notebook = nbformat.read(kit / f"{exercise.stem}.ipynb", as_version=4)
    shown = execute(kit, notebook, monkeypatch)
    checks = [text for role, text in shown if role == "check"]
    assert checks
    for text in checks:
        results = [line for line in text.splitlines() if line[:1] in "✔✘·"]
        assert results and all(line.startswith("· ") and "not started yet" in line for line in results), text
        assert text.splitlines()[-2].startswith("0/")
    progress = shown[-1][1]
    assert f"Progress: 0/{len(registry.load())} exercises done." in progress


@pytest.mark.parametrize("exercise", registry.load(), ids=lambda e: e.id)
def test_the_notebook_with_the_solutions_passes_every_check(kit, exercise, monkeypatch):
    notebook = solved(nbformat.read(kit / f"{exercise.stem}.ipynb", as_version=4), exercise)
    shown = execute(kit, notebook, monkeypatch)
    ran = 0
    for role, text in shown:
        if role != "check":
            continue
        results = [line for line in text.splitlines() if line[:1] in "✔✘·"]
        assert results and all(line.startswith("✔ ") for line in results), text
        ran += len(results)
    assert ran == len(json.loads((kit / stubs.GENERATED / f"{exercise.id}.json").read_text())["hints"]), "every check ran"


def test_a_notebook_stands_for_its_module_without_the_kits_cells():
    notebook = solved(nbformat.read(EXERCISES / "lenet.ipynb", as_version=4), registry.by_id("lenet"))
    notebook.cells.insert(3, nbformat.v4.new_code_cell("%matplotlib inline\nx = 1"))
    text = nbformat.writes(notebook).encode()
    stub = (EXERCISES / "lenet.py").read_bytes()
    source = notebook_source.resolve({"lenet.py": stub, "lenet.ipynb": text})["lenet.py"].decode()
    assert "class Net(nn.Module)" in source and "x = torch.flatten(x, 1)" in source
    assert "check(" not in source and "progress(" not in source and "_kit" not in source
    assert "pass  # notebook command" in source and "x = 1" in source
    compile(source, "lenet.py", "exec")
    edited = (SOLUTIONS / "lenet.py").read_bytes()
    assert notebook_source.resolve({"lenet.py": edited, "lenet.ipynb": text}) == {"lenet.py": edited}, \
        "a .py file the student changed counts, not the notebook"


def test_grader_score_grades_the_notebook_form(tmp_path, isolation):
    from typer.testing import CliRunner

    from grader.cli import app

    lenet = registry.by_id("lenet")
    worked = nbformat.writes(solved(nbformat.read(EXERCISES / "lenet.ipynb", as_version=4), lenet))
    klass = tmp_path / "class"
    students = {
        "notebook_only": {"lenet.ipynb": worked},
        "stub_py_and_notebook": {"exercises/lenet.py": (EXERCISES / "lenet.py").read_text(), "exercises/lenet.ipynb": worked},
        "py_changed": {"lenet.py": (SOLUTIONS / "lenet.py").read_text(), "lenet.ipynb": (EXERCISES / "lenet.ipynb").read_text()},
        "notebook_untouched": {"lenet.ipynb": (EXERCISES / "lenet.ipynb").read_text()},
    }
    for student, files in students.items():
        for name, text in files.items():
            (klass / student / name).parent.mkdir(parents=True, exist_ok=True)
            (klass / student / name).write_text(text)
    out = tmp_path / "grades.json"
    result = CliRunner().invoke(app, ["score", str(klass), "-e", "lenet", "--jobs", "2", "--no-cache", "--json", str(out)])
    assert result.exit_code == 0, result.output
    scores = {s["student"]: s["score"] for s in json.loads(out.read_text())["submissions"]}
    assert scores == {"notebook_only": lenet.points, "stub_py_and_notebook": lenet.points, "py_changed": lenet.points,
                      "notebook_untouched": 0}
