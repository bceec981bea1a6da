"""Gradescope: results.json follows Gradescope's spec, and the bundle works as shipped: unpacked
into a temporary autograder root, set up by its own setup.sh (a fresh venv built from the bundle
alone), it grades full, partial, broken and hostile submissions placed as Gradescope places
them, in bubblewrap's sandbox and through the uid fallback; and its install grades the whole
hostile class of tests/hostile/ through the fallback.

Spec: https://gradescope-autograders.readthedocs.io/en/latest/specs/
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import tempfile
import time
import zipfile
from pathlib import Path

import jsonschema
import pytest

from grader import registry
from grader.grading.results import Note, NoteKind, Outcome, Status, SubmissionResult, TestRecord
from grader.integrations import gradescope_bundle
from grader.isolation import processes
from grader.paths import EXERCISES, ROOT, SOLUTIONS
from grader.writers import gradescope

VISIBILITY = {"enum": ["hidden", "after_due_date", "after_published", "visible"]}
FORMAT = {"enum": ["text", "html", "simple_format", "md", "ansi"]}
TEST = {
    "type": "object",
    "properties": {
        "score": {"type": "number"}, "max_score": {"type": "number"}, "status": {"enum": ["passed", "failed"]},
        "name": {"type": "string"}, "name_format": FORMAT, "number": {"type": "string"},
        "output": {"type": "string"}, "output_format": FORMAT, "tags": {"type": "array", "items": {"type": "string"}},
        "visibility": VISIBILITY, "extra_data": {"type": "object"},
    },
    "required": ["score", "max_score", "status", "name", "output", "output_format", "visibility"],
    "additionalProperties": False,
}
RESULTS = {  # Gradescope's results.json, with what this kit always writes made required
    "type": "object",
    "properties": {
        "score": {"type": "number"}, "execution_time": {"type": "integer", "minimum": 0},
        "output": {"type": "string"}, "output_format": FORMAT, "test_output_format": FORMAT,
        "test_name_format": FORMAT, "visibility": VISIBILITY, "stdout_visibility": VISIBILITY,
        "extra_data": {"type": "object"}, "tests": {"type": "array", "items": TEST}, "leaderboard": {"type": "array"},
    },
    "required": ["score", "execution_time", "output", "output_format", "visibility", "tests"],
    "additionalProperties": False,
}
EXERCISES_GRADED = ("lenet", "loss_backprop")  # the bundle under test grades these two, the quickest
POINTS = {e: registry.by_id(e).points for e in EXERCISES_GRADED}
SETTINGS = gradescope.Visibility("after_due_date", {"lenet": "visible"})


def test_results_json_follows_the_spec():
    result = SubmissionResult("s", Status.GRADED, [
        TestRecord("test_a", "lenet", 2, 2, Outcome.PASSED),
        TestRecord("test_b", "operations", 3, 0, Outcome.NOT_STARTED, "not started yet"),
    ], 5, missing=["training.py"], execution_time=3.4)
    doc = gradescope.results_json(result, SETTINGS)
    jsonschema.validate(doc, RESULTS)
    assert doc["score"] == 2 and [t["number"] for t in doc["tests"]] == ["1", "2"]
    assert [t["status"] for t in doc["tests"]] == ["passed", "failed"]
    assert [t["visibility"] for t in doc["tests"]] == ["visible", "after_due_date"]
    assert "lenet: 2 / 2" in doc["output"] and "operations: 0 / 3" in doc["output"]
    assert "missing modules: training.py" in doc["output"] and doc["visibility"] == "visible"


def test_an_unreadable_submission_says_why_in_a_valid_document():
    result = SubmissionResult("s", Status.ERROR, [], 35, notes=[Note(NoteKind.UNREADABLE, "s holds an unsafe path")])
    doc = gradescope.results_json(result)
    jsonschema.validate(doc, RESULTS)
    assert doc["score"] == 0 and doc["tests"] == [] and "unsafe path" in doc["output"]


@pytest.mark.parametrize("settings, expected", [
    ([], gradescope.Visibility()),
    (["after_due_date"], gradescope.Visibility("after_due_date")),
    (["hidden", "lenet=visible"], gradescope.Visibility("hidden", {"lenet": "visible"})),
])
def test_visibility_settings_parse_and_round_trip(settings, expected):
    parsed = gradescope.Visibility.parse(settings)
    assert parsed == expected
    assert gradescope.Visibility.parse(parsed.arguments()[1::2]) == parsed


def test_a_visibility_gradescope_does_not_know_is_refused():
    with pytest.raises(gradescope.VisibilityError, match="visibility 'lenet=soon'"):
        gradescope.Visibility.parse(["lenet=soon"])


def test_the_bundle_holds_what_grading_needs_and_nothing_else(tmp_path):
    names = set(gradescope_bundle.build(tmp_path / "autograder.zip"))
    assert {"setup.sh", "run_autograder", "pyproject.toml", "grader/cli/__init__.py",
            "grader/authoring/example_class.py", "grader/exercises/lenet/test_hidden.py",
            "solutions/lenet.py", "exercises/_kit/datasets.py", "data/MNIST/raw/t10k-images-idx3-ubyte"} <= names
    assert not [n for n in names if n.startswith(("tests/", "bench/", ".git", "exercises/test_", ".venv"))
                or "__pycache__" in n or n == "exercises/lenet.py"]
    with pytest.raises(gradescope_bundle.BundleError, match=r"the kit has no pyproject\.toml"):
        gradescope_bundle.files(tmp_path)


# --- the bundle, installed and run as Gradescope would -------------------------------------------

def unpack(bundle: Path, target: Path) -> None:
    """Extract with the modes the zip records (zipfile.extractall drops them), as Gradescope does."""
    with zipfile.ZipFile(bundle) as archive:
        for info in archive.infolist():
            path = Path(archive.extract(info, target))
            path.chmod(info.external_attr >> 16 & 0o777)


def clean_environment(root: Path, **extra: str) -> dict[str, str]:
    """What Gradescope's harness gives: no trace of this development venv."""
    return {"PATH": "/usr/bin:/bin", "HOME": "/root", "LANG": "C.UTF-8", "AUTOGRADER_ROOT": str(root), **extra}


@pytest.fixture(scope="module")
def autograder():
    """An autograder root built from the bundle alone: the one slow step (a venv with torch)."""
    root = Path(tempfile.mkdtemp(prefix="cnnkit-autograder-"))
    root.chmod(0o755)  # a worker's uid must reach the venv and the trust boundary, as under /autograder
    bundle = root / "autograder.zip"
    gradescope_bundle.build(bundle, EXERCISES_GRADED, SETTINGS)
    unpack(bundle, root / "source")
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")  # where Gradescope puts it
    started = time.monotonic()
    setup = subprocess.run(["bash", str(root / "source" / "setup.sh")], cwd=root / "source",
                           env=clean_environment(root), capture_output=True, text=True, timeout=1800)
    assert setup.returncode == 0, setup.stdout[-3000:] + setup.stderr[-3000:]
    print(f"\nbundle venv built by setup.sh in {time.monotonic() - started:.0f} s")
    yield root
    subprocess.run(["rm", "-rf", str(root)], check=False)  # a torch venv: rm is several times quicker than rmtree


def autograde(root: Path, files: dict[str, bytes], sandbox: str = "auto") -> tuple[dict, str]:
    """Place `files` as /autograder/submission, run run_autograder there; results.json and the log."""
    for folder in ("submission", "results"):
        shutil.rmtree(root / folder, ignore_errors=True)
        (root / folder).mkdir()
    for name, data in files.items():
        (root / "submission" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "submission" / name).write_bytes(data)
    run = subprocess.run([str(root / "run_autograder")], cwd=root, capture_output=True, text=True, timeout=900,
                         env=clean_environment(root, CNN_KIT_SANDBOX=sandbox))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    document = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(document, RESULTS)
    return document, run.stdout + run.stderr


def source(folder: Path, exercise: str) -> bytes:
    return (folder / registry.by_id(exercise).module).read_bytes()


def exercise_scores(document: dict) -> dict[str, float]:
    scores: dict[str, float] = {}
    for test in document["tests"]:
        exercise = test["name"].split(":")[0]
        scores[exercise] = scores.get(exercise, 0) + test["score"]
    return scores


@pytest.mark.slow
def test_the_bundle_runs_its_own_code_from_its_own_venv(autograder):
    seen = subprocess.run([str(autograder / "venv" / "bin" / "python"), "-c",
                           "import sys, grader.cli, torch; print(grader.__file__); print(sys.path)"],
                          capture_output=True, text=True, env=clean_environment(autograder), cwd=autograder,
                          check=True).stdout
    assert seen.splitlines()[0] == str(autograder / "source" / "grader" / "__init__.py")
    assert str(ROOT) not in seen, "nothing of the development checkout is on its path"


@pytest.mark.slow
def test_a_full_submission_gets_full_marks(autograder):
    document, _ = autograde(autograder, {registry.by_id(e).module: source(SOLUTIONS, e) for e in EXERCISES_GRADED})
    assert document["score"] == sum(POINTS.values())
    assert all(t["status"] == "passed" for t in document["tests"])
    assert {t["visibility"] for t in document["tests"] if t["name"].startswith("lenet:")} == {"visible"}
    assert {t["visibility"] for t in document["tests"] if t["name"].startswith("loss_backprop:")} == {"after_due_date"}


@pytest.mark.slow
def test_a_partial_submission_in_a_folder_gets_what_it_earned(autograder):
    document, _ = autograde(autograder, {"my-work/exercises/lenet.py": source(SOLUTIONS, "lenet"),
                                         "my-work/exercises/loss_backprop.py": source(EXERCISES, "loss_backprop")})
    assert exercise_scores(document) == {"lenet": POINTS["lenet"], "loss_backprop": 0}
    assert document["score"] == POINTS["lenet"]


@pytest.mark.slow
def test_a_broken_submission_is_told_why(autograder):
    broken = source(SOLUTIONS, "lenet").replace(b"def forward(self, x):", b"def forward(self, x)", 1)
    document, _ = autograde(autograder, {"lenet.py": broken, "loss_backprop.py": b"\x7fELF\0\0\0binary"})
    assert document["score"] == 0
    lenet = [t for t in document["tests"] if t["name"].startswith("lenet:")]
    assert lenet and all("SyntaxError" in t["output"] for t in lenet)
    assert "loss_backprop.py is not Python source text" in document["output"] and "(error)" in document["output"]


HOSTILE = '''
import ctypes, json, os, time
ROOT = {root!r}
stolen = []
for path in (ROOT + "/source/solutions/lenet.py", ROOT + "/source/grader/exercises/lenet/test_hidden.py"):
    try:
        stolen.append(open(path).read())
    except OSError:
        pass
fake = json.dumps({{"score": 1000, "tests": []}})
if os.fork() == 0:  # a daemon: it outlives the worker, and keeps rewriting the results
    os.setsid()
    if os.fork() == 0:
        ctypes.CDLL(None).prctl(15, b"cnnkit-daemon", 0, 0, 0)  # PR_SET_NAME: findable in /proc
        for _ in range(3000):
            for target in (ROOT + "/results/results.json", ROOT + "/results/extra.json"):
                try:
                    with open(target, "w") as f:
                        f.write(fake)
                except OSError:
                    pass
            time.sleep(0.02)
    os._exit(0)
print("========================= 30 passed in 1.00s =========================")
if stolen:
    exec(stolen[0])
else:
    class Net:
        pass

    LeNet = Net
'''


def daemons() -> list[str]:
    """The hostile daemons alive on the machine (a killed one may stay a zombie until init reaps it)."""
    found = []
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            name, _, rest = stat_file.read_text().partition(") ")
        except OSError:
            continue
        if name.endswith("(cnnkit-daemon") and rest.split()[0] not in ("Z", "X"):
            found.append(stat_file.parent.name)
    return found


@pytest.mark.slow
@pytest.mark.parametrize("sandbox", ["auto", "uid"])
def test_a_hostile_submission_gains_nothing_and_leaves_nothing(autograder, sandbox):
    if sandbox == "uid" and os.geteuid() != 0:
        pytest.skip("the uid fallback needs root")
    document, log = autograde(autograder, {"lenet.py": HOSTILE.format(root=str(autograder)).encode()}, sandbox)
    assert document["score"] == 0 and exercise_scores(document) == {"lenet": 0, "loss_backprop": 0}
    assert ("uid fallback" in log) == (sandbox == "uid")
    assert daemons() == [], "every process the submission started is gone before results.json is written"
    assert json.loads((autograder / "results" / "results.json").read_text()) == document
    assert sorted(p.name for p in (autograder / "results").iterdir()) == ["results.json"]
    mode = (autograder / "results").stat().st_mode
    assert not mode & (stat.S_IWGRP | stat.S_IWOTH)


@pytest.mark.slow
def test_the_bundles_install_grades_the_hostile_class_through_the_uid_fallback(autograder, hostile_class, tmp_path):
    """Every attack of tests/hostile/ through the uid fallback, graded by the bundle's own install
    (whose Python, the system's, other users can read)."""
    if os.geteuid() != 0:
        pytest.skip("the uid fallback needs root")
    gradebook = tmp_path / "hostile.json"
    run = subprocess.run([str(autograder / "venv" / "bin" / "grader"), "score", str(hostile_class), "-e", "lenet",
                          "--sandbox", "uid", "--jobs", "2", "--no-cache", "--timeout", "120", "--test-timeout", "10",
                          "--json", str(gradebook)], cwd=autograder, capture_output=True, text=True, timeout=900,
                         env=clean_environment(autograder))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    data = json.loads(gradebook.read_text())
    scores = {s["student"]: s["score"] for s in data["submissions"]}
    assert scores.pop("perfect") == POINTS["lenet"] and set(scores.values()) == {0}
    assert {s["isolation"] for s in data["submissions"]} == {"uid"}
    assert processes.of_uids(data["run"]["uids"]) == [] and daemons() == []
