"""The CLI, in-process with Typer's CliRunner: bad input gets one line and an exit code."""

from __future__ import annotations

import csv
import html
import json
import zipfile

import pytest
from typer.testing import CliRunner

from grader import registry
from grader.authoring import selfcheck
from grader.cli import EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_UNREADABLE, app
from grader.paths import EXERCISES, SOLUTIONS, SUITES
from grader.writers import csv_out

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


def one_line_error(result, code: int, text: str) -> None:
    assert result.exit_code == code, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and text in lines[0], result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("make, text", [
    (lambda p: p / "missing", "no such folder"),
    (lambda p: p, "no submissions"),
])
def test_missing_or_empty_class(tmp_path, make, text):
    result = invoke("score", str(make(tmp_path)), "--json", str(tmp_path / "out.json"))
    one_line_error(result, EXIT_BAD_INPUT, text)
    assert not (tmp_path / "out.json").exists()


def test_duplicate_ids_stop_the_class(tmp_path):
    (tmp_path / "sam").mkdir()
    with zipfile.ZipFile(tmp_path / "sam.zip", "w") as archive:
        archive.writestr("lenet.py", "x = 1")
    one_line_error(invoke("score", str(tmp_path), "--csv", str(tmp_path / "g.csv")), EXIT_BAD_INPUT,
                   "two submissions for student id 'sam'")
    assert not (tmp_path / "g.csv").exists()


def test_unknown_exercise_and_sandbox(tmp_path):
    (tmp_path / "a").mkdir()
    one_line_error(invoke("score", str(tmp_path), "-e", "nope"), EXIT_BAD_INPUT, "unknown exercise")
    one_line_error(invoke("score", str(tmp_path), "--sandbox", "docker"), EXIT_BAD_INPUT, "--sandbox")


@pytest.mark.parametrize("args, text", [
    (["--visibility", "soon"], "visibility 'soon'"),
    (["--visibility", "lenett=hidden"], "unknown exercise 'lenett'"),
    (["-e", "nope"], "unknown exercise 'nope'"),
])
def test_gradescope_build_refuses_unknown_settings(tmp_path, args, text):
    one_line_error(invoke("gradescope", "build", str(tmp_path / "a.zip"), *args), EXIT_BAD_INPUT, text)
    assert not (tmp_path / "a.zip").exists()


def test_stubs_check_passes_on_the_repo():
    result = invoke("stubs", "--check")
    assert result.exit_code == 0 and "in sync" in result.output


def test_check_passes_on_the_kit():
    result = invoke("check", "-e", "lenet")
    assert result.exit_code == 0, result.output
    assert "solutions: 20 / 20" in result.output and "stubs: 0 / 20" in result.output and "ok" in result.output


def test_check_fails_and_names_the_check_when_a_solution_loses_points(tmp_path, monkeypatch):
    broken = tmp_path / "solutions"
    broken.mkdir()
    source = (SOLUTIONS / "lenet.py").read_text()
    (broken / "lenet.py").write_text(source.replace("x = F.relu(self.fc2(x))", "x = self.fc2(x)", 1))
    real_run = selfcheck.run
    monkeypatch.setattr(selfcheck, "run", lambda options: real_run(options, solutions_dir=broken))
    result = invoke("check", "-e", "lenet")
    assert result.exit_code == EXIT_CHECK_FAILED, result.output
    assert "does not separate the solutions from the stubs" in result.output
    assert "lenet::test_" in result.output and "solutions: 20 / 20" not in result.output


def test_check_refuses_an_unknown_exercise():
    one_line_error(invoke("check", "-e", "lenett"), EXIT_BAD_INPUT, "unknown exercise 'lenett'")


@pytest.mark.slow
def test_score_without_a_class_grades_the_bundled_example(tmp_path):
    result = invoke("score", "-e", "lenet", "--no-cache", "--json", str(tmp_path / "g.json"))
    assert result.exit_code == 0, result.output
    assert "Grading the bundled example class" in result.output
    scores = {s["student"]: s["score"] for s in json.loads((tmp_path / "g.json").read_text())["submissions"]}
    assert scores == {"ada_full": 20, "grace_partial": 20, "linus_broken": 0, "margaret_not_started": 0}


def test_release_holds_no_secret(tmp_path):
    result = invoke("release", str(tmp_path / "rel"))
    assert result.exit_code == 0, result.output
    rel = tmp_path / "rel"
    assert (rel / "exercises" / "lenet.py").read_text() == (EXERCISES / "lenet.py").read_text()
    assert not (rel / "solutions").exists() and not (rel / "grader").exists()
    assert (rel / "README.md").exists() and (rel / "data" / "MNIST" / "raw").is_dir()
    readme = (rel / "README.md").read_text()
    assert readme.startswith(f"# CNN exercises in PyTorch\n\n{len(registry.load())} exercises")
    assert ", ".join(registry.student_modules()) in readme
    one_line_error(invoke("release", str(rel)), EXIT_BAD_INPUT, "not empty")


def test_release_leak_is_detected(tmp_path):
    from grader.authoring import release

    release.build(tmp_path / "rel")
    leaked = tmp_path / "rel" / "exercises" / "lenet.py"
    leaked.write_text((SOLUTIONS / "lenet.py").read_text())
    assert any("lenet.py" in leak for leak in release.leaks(tmp_path / "rel"))
    leaked.write_text((EXERCISES / "lenet.py").read_text())
    assert release.leaks(tmp_path / "rel") == []
    (tmp_path / "rel" / "notes.txt").write_text((SUITES / "lenet" / "test_hidden.py").read_text())
    assert any("notes.txt" in leak for leak in release.leaks(tmp_path / "rel"))


INJECTION = '=HYPERLINK("http:evil","x")'
FULL, STUB = "ada_full", "sam_stub"


@pytest.fixture(scope="module")
def lenet_class(tmp_path_factory, isolation):
    """A class graded on lenet alone: a full and a stub submission, one named as a formula, two that
    cannot be read (a corrupt zip, a binary module); and the output of `grader score`."""
    root = tmp_path_factory.mktemp("lenet_class")
    klass = root / "class"
    for student in (FULL, INJECTION):
        (klass / student).mkdir(parents=True)
        (klass / student / "lenet.py").write_text((SOLUTIONS / "lenet.py").read_text())
    with zipfile.ZipFile(klass / f"{STUB}.zip", "w") as archive:
        archive.writestr("exercises/lenet.py", (EXERCISES / "lenet.py").read_text())
    (klass / "carol.zip").write_bytes(b"PK\x03\x04 truncated")
    (klass / "dave").mkdir()
    (klass / "dave" / "lenet.py").write_bytes(b"\x7fELF\0\0\0")
    out = root / "out"
    args = ["score", str(klass), "-e", "lenet", "--jobs", "2", "--cache", str(root / "cache"),
            "--json", str(out / "g.json"), "--csv", str(out / "g.csv"), "--gradescope", str(out / "gs"),
            "--feedback", str(out / "feedback")]
    return args, out, invoke(*args)


def test_e_grades_expects_and_shows_only_the_chosen_exercises(lenet_class):
    _, out, result = lenet_class
    data = json.loads((out / "g.json").read_text())
    students = {s["student"]: s for s in data["submissions"]}
    assert data["max_score"] == 20 and data["exercises"] == ["lenet"]
    assert {k: students[k]["score"] for k in (FULL, STUB, INJECTION)} == {FULL: 20, STUB: 0, INJECTION: 20}
    assert all(s["missing"] == [] and set(s["exercises"]) <= {"lenet"} for s in students.values())
    rows = list(csv.reader((out / "g.csv").read_text().splitlines()))
    assert rows[0] == ["student", "status", "lenet", "total", "max_score", "notes"]
    assert [FULL, "graded", "20", "20", "20", ""] in rows
    assert "operations" not in result.output and "missing" not in result.output


def test_an_unreadable_submission_is_that_students_problem(lenet_class):
    _, out, result = lenet_class
    assert result.exit_code == EXIT_UNREADABLE, result.output
    assert "2 of 5 submissions could not be read" in result.output and "carol, dave" in result.output
    students = {s["student"]: s for s in json.loads((out / "g.json").read_text())["submissions"]}
    rows = {row[0]: row for row in csv.reader((out / "g.csv").read_text().splitlines())}
    for student, reason in (("carol", "carol.zip is not a valid zip file"), ("dave", "binary data")):
        assert students[student]["status"] == "error" and reason in students[student]["message"]
        kind = "unreadable" if student == "carol" else "module_skipped"
        assert [n["kind"] for n in students[student]["notes"]] == [kind]
        assert rows[student][1] == "error" and reason in rows[student][-1]
        assert reason in json.loads((out / "gs" / student / "results.json").read_text())["output"]
        assert reason in (out / "feedback" / f"{student}.html").read_text()
    assert students[FULL]["status"] == "graded" and students[FULL]["score"] == 20


def test_every_student_gets_a_feedback_page_of_their_own(lenet_class):
    _, out, _ = lenet_class
    students = (FULL, STUB, INJECTION, "carol", "dave")
    pages = {p.name: p.read_text() for p in (out / "feedback").iterdir()}
    assert sorted(pages) == sorted(f"{s}.html" for s in students)
    hidden = {line.strip() for line in (SUITES / "lenet" / "test_hidden.py").read_text().splitlines()}
    hidden = {line for line in hidden if len(line) >= 30}
    for student in students:
        page = pages[f"{student}.html"]
        assert not [s for s in students if s != student and html.escape(s) in page], "another student's data"
        assert not [line for line in hidden if html.escape(line) in page or line in page], "hidden-test source"
    assert "Every check passed" in pages[f"{FULL}.html"] and "lenet" in pages[f"{STUB}.html"].split("What to try")[1]


def test_no_csv_cell_is_a_formula(lenet_class):
    _, out, _ = lenet_class
    cells = [c for row in csv.reader((out / "g.csv").read_text().splitlines()) for c in row]
    assert "'" + INJECTION in cells
    assert not [c for c in cells if c.startswith(csv_out.FORMULA_STARTS)]


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1"])
def test_formula_cells_are_neutralised(text):
    assert csv_out.cell(text) == "'" + text
    assert csv_out.cell(-1.5) == "-1.5" and csv_out.cell("ada") == "ada"


def test_cached_results_are_reused_only_under_the_same_options(lenet_class):
    args, _, _ = lenet_class
    again = invoke(*args)
    assert again.exit_code == EXIT_UNREADABLE and "4 from cache" in again.output  # all but the corrupt zip
    changed = invoke(*args, "--test-timeout", "45")
    assert changed.exit_code == EXIT_UNREADABLE and "0 from cache" in changed.output
    seeded = [invoke(*args, "--seed", "7") for _ in range(2)]  # a fixed secret is an option too
    assert "0 from cache" in seeded[0].output and "4 from cache" in seeded[1].output
