"""nbgrader courses both ways, through the real nbgrader (no mocks): `grader nbgrader export`,
`nbgrader generate_assignment`, `nbgrader autograde`, and `grader score --nbgrader`, which must
give the same scores as nbgrader and as `grader score` on the equivalent .py files.

Two cheap exercises keep it short: lenet, and data_loading (which reads the shipped data).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from typer.testing import CliRunner

from grader import registry
from grader.authoring import release, stubs
from grader.cli import app
from grader.integrations import nbgrader_export, nbgrader_grade
from grader.paths import SOLUTIONS

pytestmark = pytest.mark.slow

EXERCISES = ("lenet", "data_loading")
ASSIGNMENT = "ps1"
BIN = Path(sys.executable).parent
AUTOGRADED = ("untouched", "complete", "half", "asis")
BROKEN = ("broken_json", "deleted", "duplicated")
TIMINGS: dict[str, float] = {}
runner = CliRunner()


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    """Run the real nbgrader in the course folder, with the venv's tools (alembic) on PATH and no
    user-level Jupyter config or kernels, so the kernel is this venv's python."""
    jupyter = course.parent / "jupyter"
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "JUPYTER_DATA_DIR": str(jupyter / "data"), "JUPYTER_CONFIG_DIR": str(jupyter / "config")}
    done = subprocess.run([str(BIN / "nbgrader"), *args], cwd=course, env=env, capture_output=True, text=True,
                          timeout=1800)
    assert done.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def solution_ids(notebook: nbformat.NotebookNode) -> list[str]:
    return [c.metadata["nbgrader"]["grade_id"] for c in notebook.cells
            if c.metadata.get("nbgrader", {}).get("solution")]


def fill(course: Path, student: str, done: dict[str, int | None]) -> Path:
    """submitted/<student>/ps1/: the release, with the first `done[exercise]` solution cells of each
    notebook (all when None) replaced by the source notebook's."""
    folder = course / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True)
    for exercise in EXERCISES:
        released = nbformat.read(course / "release" / ASSIGNMENT / f"{exercise}.ipynb", 4)
        source = nbformat.read(course / "source" / ASSIGNMENT / f"{exercise}.ipynb", 4)
        answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells
                   if c.metadata.get("nbgrader", {}).get("solution")}
        ids = solution_ids(released)
        wanted = set(ids if done.get(exercise, 0) is None else ids[: done.get(exercise, 0)])
        for cell in released.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") in wanted:
                cell.source = answers[cell.metadata["nbgrader"]["grade_id"]]
        nbformat.write(released, folder / f"{exercise}.ipynb")
    return folder


def equivalent_module(exercise: str, done: int | None) -> str:
    """The .py file of a student who solved the first `done` parts (all when None), the rest stubs."""
    _, parts = nbgrader_export.split_module((SOLUTIONS / registry.by_id(exercise).module).read_text())
    keep = len(parts) if done is None else done
    return "\n\n\n".join(code if i < keep else stubs.make_stub(code) for i, (_, code) in enumerate(parts)) + "\n"


WORK = {  # student -> exercise -> solution cells filled (None: all)
    "untouched": {},
    "complete": {e: None for e in EXERCISES},
    "half": {EXERCISES[0]: None, EXERCISES[1]: 2},  # one exercise done, half the other's functions
}


def gradebook(course: Path) -> dict[str, dict[str, float]]:
    """Per student, every grade cell's score, read with nbgrader's own API."""
    from nbgrader.api import Gradebook

    scores: dict[str, dict[str, float]] = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "cnn-kit") as gb:
        for submission in gb.assignment_submissions(ASSIGNMENT):
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    scores.setdefault(submission.student.id, {})[f"{notebook.name}/{grade.name}"] = grade.score
    return scores


def total(cells: dict[str, float]) -> float:
    return round(sum(cells.values()), 6)


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """An exported, generated course."""
    course = tmp_path_factory.mktemp("nbgrader") / "course"
    started = time.monotonic()
    result = runner.invoke(app, ["nbgrader", "export", str(course), "--assignment", ASSIGNMENT,
                                 *[a for e in EXERCISES for a in ("-e", e)]])
    assert result.exit_code == 0, result.output
    TIMINGS["export"] = time.monotonic() - started
    started = time.monotonic()
    nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    TIMINGS["generate_assignment"] = time.monotonic() - started
    return course


@pytest.fixture(scope="module")
def autograded(course: Path) -> dict[str, dict[str, float]]:
    """Four submissions autograded by nbgrader; the gradebook's cell scores right after."""
    for student, work in WORK.items():
        fill(course, student, work)
    asis = course / "submitted" / "asis" / ASSIGNMENT
    asis.mkdir(parents=True)
    for exercise in EXERCISES:  # the source notebooks themselves, hidden tests and all
        (asis / f"{exercise}.ipynb").write_bytes((course / "source" / ASSIGNMENT / f"{exercise}.ipynb").read_bytes())
    started = time.monotonic()
    nbgrader(course, "autograde", ASSIGNMENT, "--force")
    TIMINGS["nbgrader autograde (all)"] = time.monotonic() - started
    return gradebook(course)


@pytest.fixture(scope="module")
def kit_scored(course: Path, autograded, isolation, tmp_path_factory) -> tuple[dict, dict]:
    """`grader score --nbgrader` over the same submissions plus three broken ones: JSON and gradebook."""
    complete = course / "submitted" / "complete" / ASSIGNMENT
    first = EXERCISES[0]
    folder = fill(course, "broken_json", {e: None for e in EXERCISES})
    text = (folder / f"{first}.ipynb").read_text()
    (folder / f"{first}.ipynb").write_text(text.rstrip()[:-1])  # cut short: not JSON any more
    (folder / f"{EXERCISES[1]}.ipynb").write_bytes(b"\x00\xffnot a notebook at all")
    folder = fill(course, "deleted", {e: None for e in EXERCISES})
    notebook = nbformat.read(folder / f"{first}.ipynb", 4)
    notebook.cells = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") != f"{first}_code"]
    nbformat.write(notebook, folder / f"{first}.ipynb")
    notebook = nbformat.read(folder / f"{EXERCISES[1]}.ipynb", 4)
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == f"{EXERCISES[1]}_code":
            cell.cell_type = "markdown"
            del cell["outputs"], cell["execution_count"]
    nbformat.write(notebook, folder / f"{EXERCISES[1]}.ipynb", version=4)
    folder = fill(course, "duplicated", {e: None for e in EXERCISES})
    notebook = nbformat.read(complete / f"{first}.ipynb", 4)
    copy = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == f"{first}_code")
    notebook.cells.insert(notebook.cells.index(copy) + 1, nbformat.from_dict(json.loads(json.dumps(copy))))
    notebook.cells[notebook.cells.index(copy) + 1]["id"] = "a-copy"
    nbformat.write(notebook, folder / f"{first}.ipynb")
    out = tmp_path_factory.mktemp("kit") / "grades.json"
    started = time.monotonic()
    result = runner.invoke(app, ["score", "--nbgrader", str(course), "--assignment", ASSIGNMENT, "--jobs", "2",
                                 "--no-cache", "--sandbox", isolation.value, "--json", str(out)])
    assert result.exit_code == 0, result.output
    TIMINGS["grader score --nbgrader (all)"] = time.monotonic() - started
    TIMINGS["submissions graded by grader score --nbgrader"] = len(AUTOGRADED) + len(BROKEN)
    data = json.loads(out.read_text())
    return {s["student"]: s for s in data["submissions"]}, gradebook(course)


def test_export_writes_notebooks_worth_the_kits_points(course: Path):
    folder = course / "source" / ASSIGNMENT
    for exercise in EXERCISES:
        notebook = nbformat.read(folder / f"{exercise}.ipynb", 4)
        nbformat.validate(notebook)
        graded = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade")]
        cases = [c for c in nbgrader_export.hidden_cases(exercise) if c.points]
        assert len(graded) == len(cases)  # one autograder cell per hidden case, parametrized ones apart
        assert sum(c.metadata["nbgrader"]["points"] for c in graded) == registry.by_id(exercise).points
        assert all(c.metadata["nbgrader"]["locked"] and "### BEGIN HIDDEN TESTS" in c.source for c in graded)
        solutions = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("solution")]
        assert solutions[0].metadata["nbgrader"]["grade_id"] == f"{exercise}_code"
        assert all(stubs.BEGIN in c.source and stubs.END in c.source for c in solutions)
        ids = [c.metadata["nbgrader"]["grade_id"] for c in notebook.cells if "nbgrader" in c.metadata]
        assert len(ids) == len(set(ids))
        assert notebook.cells[0].cell_type == "markdown" and registry.by_id(exercise).title in notebook.cells[0].source
        assert (folder / f"test_{registry.by_id(exercise).module}").is_file()
    assert (folder / "_kit" / "notebook.py").is_file() and (folder / "data" / "MNIST" / "raw").is_dir()
    assert "c.CourseDirectory.course_id" in (course / "nbgrader_config.py").read_text()


def test_release_holds_no_solution_or_hidden_test(course: Path):
    secrets = release.secrets()
    def lines(path: Path) -> set[str]:
        return {line.strip() for cell in nbformat.read(path, 4).cells for line in cell.source.splitlines()}
    for exercise in EXERCISES:
        released = course / "release" / ASSIGNMENT / f"{exercise}.ipynb"
        text = "\n".join(c.source for c in nbformat.read(released, 4).cells)
        assert not lines(released) & secrets
        for marker in ("BEGIN HIDDEN", "run_hidden", "from grader", stubs.BEGIN):
            assert marker not in text
        assert lines(course / "source" / ASSIGNMENT / f"{exercise}.ipynb") & secrets  # the check has teeth
    assert release.leaks(course / "release" / ASSIGNMENT) == []


def test_nbgrader_autograde_scores(autograded):
    maximum = sum(registry.by_id(e).points for e in EXERCISES)
    scores = {student: total(cells) for student, cells in autograded.items()}
    assert scores["untouched"] == 0
    assert scores["complete"] == scores["asis"] == maximum
    assert registry.by_id(EXERCISES[0]).points < scores["half"] < maximum


def test_grader_score_agrees_with_nbgrader_and_with_py_files(course, autograded, kit_scored, isolation,
                                                             tmp_path):
    results, book = kit_scored
    for student in AUTOGRADED:  # cell by cell, the same as nbgrader's own autograde
        assert book[student] == autograded[student], student
        assert results[student]["score"] == total(autograded[student])
    klass = tmp_path / "class"
    for student, work in WORK.items():
        (klass / student).mkdir(parents=True)
        for exercise in EXERCISES:
            module = registry.by_id(exercise).module
            (klass / student / module).write_text(equivalent_module(exercise, work.get(exercise, 0)))
    out = tmp_path / "py.json"
    result = runner.invoke(app, ["score", str(klass), "--jobs", "2", "--no-cache", "--sandbox", isolation.value,
                                 "--json", str(out), *[a for e in EXERCISES for a in ("-e", e)]])
    assert result.exit_code == 0, result.output
    py = {s["student"]: s for s in json.loads(out.read_text())["submissions"]}
    for student in WORK:
        assert py[student]["score"] == results[student]["score"] == total(autograded[student]), student
        assert py[student]["exercises"] == results[student]["exercises"], student
    per_submission = TIMINGS["grader score --nbgrader (all)"] / TIMINGS["submissions graded by grader score --nbgrader"]
    autograde = TIMINGS["nbgrader autograde (all)"] / len(AUTOGRADED)
    print(f"\nper submission ({len(EXERCISES)} notebooks): nbgrader autograde {autograde:.1f} s, "
          f"grader score --nbgrader {per_submission:.1f} s (--jobs 2); all timings: "
          + ", ".join(f"{k}: {v:.1f}" for k, v in TIMINGS.items()))


def test_broken_notebooks_get_a_status_and_do_not_stop_the_batch(kit_scored):
    results, book = kit_scored
    maximum = sum(registry.by_id(e).points for e in EXERCISES)
    assert set(results) == set(AUTOGRADED) | set(BROKEN)  # every student graded
    first, second = EXERCISES
    broken = results["broken_json"]
    assert "is not valid JSON" in broken["message"] and "cell(s) recovered" in broken["message"]
    assert broken["exercises"][first]["score"] == registry.by_id(first).points  # recovered from the text
    assert broken["exercises"][second]["score"] == 0 and f"{second}.ipynb" in broken["message"]
    deleted = results["deleted"]
    assert f"{first}_code missing (deleted?)" in deleted["message"]
    assert 0 <= deleted["exercises"][first]["score"] < registry.by_id(first).points
    assert f"({second}_code) is a markdown cell" in deleted["message"]
    assert deleted["exercises"][second]["score"] == registry.by_id(second).points  # graded as code anyway
    duplicated = results["duplicated"]
    assert f"grade id {first}_code appears 2 times" in duplicated["message"]
    assert duplicated["score"] == maximum
    for student in BROKEN:
        assert total(book[student]) == results[student]["score"]


def test_config_merge_is_idempotent_and_keeps_existing_content(tmp_path):
    from traitlets.config.loader import PyFileConfigLoader

    path, changed = nbgrader_export.merge_config(tmp_path / "new", "my-course")
    assert changed and PyFileConfigLoader(path.name, path=str(path.parent)).load_config().CourseDirectory.course_id \
        == "my-course"
    assert nbgrader_export.merge_config(tmp_path / "new", "my-course") == (path, False)
    mine = 'c = get_config()\nc.CourseDirectory.course_id = "kept"\nc.Exchange.root = "/srv/exchange"\n'
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "nbgrader_config.py").write_text(mine)
    path, changed = nbgrader_export.merge_config(tmp_path / "old", "other")
    text = path.read_text()
    assert changed and text.startswith(mine) and text.count(nbgrader_export.BLOCK_BEGIN) == 1
    assert "course_id" not in text[len(mine):] and "c.Execute.timeout" in text
    config = PyFileConfigLoader(path.name, path=str(path.parent)).load_config()
    assert config.CourseDirectory.course_id == "kept" and config.Exchange.root == "/srv/exchange"
    assert config.Execute.timeout == 600
    assert nbgrader_export.merge_config(tmp_path / "old", "other") == (path, False)
    path.write_text(mine + "c.Execute.timeout = 30\nc.ClearSolutions.code_stub = {'python': 'pass'}\n"
                    + text[len(mine):])  # the instructor now sets them all: the block goes away
    nbgrader_export.merge_config(tmp_path / "old", "other")
    assert nbgrader_export.BLOCK_BEGIN not in path.read_text() and path.read_text().startswith(mine)


def test_module_source_fallbacks(tmp_path):
    v4 = nbformat.v4
    meta = lambda gid, **kw: {"nbgrader": {"grade_id": gid, "solution": True, "grade": False, **kw}}  # noqa: E731
    notebook = v4.new_notebook(cells=[
        v4.new_code_cell(nbgrader_export.SETUP_SOURCE,
                         metadata={"nbgrader": {"grade_id": "lenet_setup", "locked": True}}),
        v4.new_code_cell("%matplotlib inline\nimport torch\nx = 1", metadata=meta("lenet_code")),
        v4.new_code_cell("def helper(:\n    pass"),
        v4.new_markdown_cell("y = 2", metadata=meta("lenet_code_Net")),
        v4.new_code_cell("assert False", metadata={"nbgrader": {"grade_id": "lenet__t", "grade": True}}),
    ])
    path = tmp_path / "lenet.ipynb"
    nbformat.write(notebook, path)
    got = nbgrader_grade.module_source(path, "lenet", ("lenet_code", "lenet_code_Net", "lenet_code_LeNet"))
    namespace: dict = {}
    exec(got.source, namespace)  # our own test input
    assert namespace["x"] == 1 and namespace["y"] == 2 and "helper" not in namespace
    assert "CNN_KIT_DATA" not in got.source and "assert False" not in got.source
    notes = " | ".join(got.notes)
    assert "cell 3 has a syntax error" in notes and "lenet_code_LeNet missing" in notes and "markdown cell" in notes
    path.write_text(path.read_text()[:-40])
    again = nbgrader_grade.module_source(path, "lenet")
    assert "not valid JSON" in again.notes[0] and "x = 1" in again.source and "assert False" not in again.source
    assert nbgrader_grade.module_source(tmp_path / "gone.ipynb", "lenet").notes == ["gone.ipynb was not submitted"]


def test_cli_errors_are_one_line(tmp_path):
    def error(result, text: str) -> None:
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output and text in result.output, result.output

    error(runner.invoke(app, ["nbgrader", "export", str(tmp_path / "c"), "-a", "ps1", "-e", "nope"]),
          "unknown exercise")
    error(runner.invoke(app, ["nbgrader", "export", str(tmp_path / "c"), "-a", "../up"]), "assignment name")
    score = ["score", "--sandbox", "none", "--nbgrader", str(tmp_path)]
    error(runner.invoke(app, score), "--nbgrader needs --assignment")
    error(runner.invoke(app, [*score, "--assignment", "ps1"]), "no gradebook")
    error(runner.invoke(app, [*score[:-1], str(tmp_path / "missing"), "--assignment", "ps1"]), "no such course folder")
