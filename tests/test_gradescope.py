"""Gradescope: results.json follows the autograder spec, and the bundle's run_autograder works
against a temporary root laid out like /autograder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from grader.integrations import gradescope_bundle
from grader.paths import EXERCISES, SOLUTIONS
from grader.grading.results import Outcome, Status, SubmissionResult, TestRecord
from grader.writers import gradescope

TEST_KEYS = {"name", "number", "score", "max_score", "status", "output", "visibility"}


def test_results_json_follows_the_spec():
    result = SubmissionResult("s", Status.GRADED, [
        TestRecord("test_a", "lenet", 2, 2, Outcome.PASSED),
        TestRecord("test_b", "lenet", 3, 0, Outcome.NOT_STARTED, "not started yet"),
    ], 5, execution_time=3.4)
    doc = gradescope.results_json(result)
    assert doc["score"] == 2 and isinstance(doc["execution_time"], int)
    assert [set(t) for t in doc["tests"]] == [TEST_KEYS, TEST_KEYS]
    assert [t["status"] for t in doc["tests"]] == ["passed", "failed"]
    assert all(t["visibility"] in ("visible", "hidden", "after_due_date", "after_published") for t in doc["tests"])
    assert [t["number"] for t in doc["tests"]] == ["1", "2"]


def test_bundle_runs_against_an_autograder_root(tmp_path, isolation):
    bundle = tmp_path / "autograder.zip"
    names = gradescope_bundle.build(bundle)
    assert {"setup.sh", "run_autograder", "solutions/lenet.py", "grader/exercises/lenet/test_hidden.py"} <= set(names)
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
        assert archive.getinfo("run_autograder").external_attr >> 16 & 0o111
    submission = root / "submission"
    submission.mkdir()
    shutil.copy(SOLUTIONS / "lenet.py", submission / "lenet.py")
    shutil.copy(EXERCISES / "operations.py", submission / "operations.py")
    (root / "results").mkdir()
    script = root / "source" / "run_autograder"
    script.chmod(0o755)
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "GRADER": str(Path(sys.executable).parent / "grader")}
    proc = subprocess.run([str(script)], env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads((root / "results" / "results.json").read_text())
    lenet = [t for t in doc["tests"] if t["name"].startswith("lenet:")]
    assert lenet and all(t["status"] == "passed" for t in lenet)
    ops = [t for t in doc["tests"] if t["name"].startswith("operations:")]
    assert ops and all(t["score"] == 0 for t in ops)
    assert doc["score"] == sum(t["max_score"] for t in lenet)
