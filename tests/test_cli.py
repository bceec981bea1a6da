"""The CLI, in-process with Typer's CliRunner: bad input gets one line and an exit code."""

from __future__ import annotations

import json
import zipfile

import pytest
from typer.testing import CliRunner

from grader import registry
from grader.cli import EXIT_BAD_INPUT, app
from grader.paths import EXERCISES, SOLUTIONS, SUITES

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


def test_corrupt_zip_writes_no_gradebook(tmp_path):
    (tmp_path / "ok").mkdir()
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 truncated")
    result = invoke("score", str(tmp_path), "--csv", str(tmp_path / "g.csv"))
    one_line_error(result, EXIT_BAD_INPUT, "not a valid zip")
    assert not (tmp_path / "g.csv").exists()


def test_zip_slip_and_duplicate_ids(tmp_path):
    with zipfile.ZipFile(tmp_path / "eve.zip", "w") as archive:
        archive.writestr("../../lenet.py", "x = 1")
    one_line_error(invoke("score", str(tmp_path)), EXIT_BAD_INPUT, "unsafe path")
    (tmp_path / "eve.zip").unlink()
    (tmp_path / "sam").mkdir()
    with zipfile.ZipFile(tmp_path / "sam.zip", "w") as archive:
        archive.writestr("lenet.py", "x = 1")
    one_line_error(invoke("score", str(tmp_path)), EXIT_BAD_INPUT, "two submissions for student id 'sam'")


def test_unknown_exercise_and_sandbox(tmp_path):
    (tmp_path / "a").mkdir()
    one_line_error(invoke("score", str(tmp_path), "-e", "nope"), EXIT_BAD_INPUT, "unknown exercise")
    one_line_error(invoke("score", str(tmp_path), "--sandbox", "docker"), EXIT_BAD_INPUT, "--sandbox")


def test_stubs_check_passes_on_the_repo():
    result = invoke("stubs", "--check")
    assert result.exit_code == 0 and "in sync" in result.output


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


def test_score_one_exercise_writes_every_format(tmp_path, isolation):
    klass = tmp_path / "class"
    (klass / "full").mkdir(parents=True)
    (klass / "full" / "lenet.py").write_text((SOLUTIONS / "lenet.py").read_text())
    with zipfile.ZipFile(klass / "stub.zip", "w") as archive:
        archive.writestr("exercises/lenet.py", (EXERCISES / "lenet.py").read_text())
    out = tmp_path / "out"
    args = ["score", str(klass), "-e", "lenet", "--jobs", "2", "--cache", str(tmp_path / "cache"),
            "--json", str(out / "g.json"), "--csv", str(out / "g.csv"), "--gradescope", str(out / "gs")]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    data = json.loads((out / "g.json").read_text())
    scores = {s["student"]: s["score"] for s in data["submissions"]}
    assert data["max_score"] == 20 and scores == {"full": 20, "stub": 0}
    assert (out / "g.csv").read_text().splitlines()[1].startswith("full,graded,0,0,20,")
    gs = json.loads((out / "gs" / "full" / "results.json").read_text())
    assert gs["score"] == 20 and all(t["status"] == "passed" for t in gs["tests"])
    again = invoke(*args)
    assert again.exit_code == 0 and "2 from cache" in again.output
