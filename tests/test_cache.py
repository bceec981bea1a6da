"""The result cache cannot be stale: its key changes with everything that can change a verdict
(a cache miss, so a re-grade) and with nothing else (a hit)."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from grader.grading import cache
from grader.grading.options import GradeOptions
from grader.grading.results import Note, NoteKind, Outcome, Status, SubmissionResult, TestRecord
from grader.inside.limits import Limits
from grader.isolation.quota import Quota
from grader.isolation.sandbox import Isolation
from grader.paths import ROOT, SUITES

SOURCES = {"lenet.py": b"class Net: pass\n"}


@pytest.fixture(scope="module")
def kit(tmp_path_factory) -> Path:
    """A copy of the kit's grading parts, and of its README."""
    root = tmp_path_factory.mktemp("kit")
    for part in (*cache.GRADING_PARTS, "README.md"):
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, root / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (root / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, root / part)
    return root


@pytest.mark.parametrize("part", [
    "grader/grading/scenario.py",  # the trusted verdict machinery
    "grader/inside/worker.py",  # what runs beside student code
    "grader/exercises/lenet/test_hidden.py",  # a hidden suite
    "grader/exercises/pytest.ini",
    "grader/heldout/heldout-labels-idx1-ubyte",  # the digits held back
    "exercises/_kit/datasets.py",  # the student-side helpers the sandbox imports
    "exercises/registry.toml",
    "solutions/lenet.py",
    "data/MNIST/raw/t10k-labels-idx1-ubyte",  # the data itself, not only its checksums
    "data/SHA256SUMS",
])
def test_every_part_that_decides_a_grade_changes_the_key(kit, part):
    before = cache.fingerprint(kit)
    target = kit / part
    original = target.read_bytes()
    try:
        target.write_bytes(original + b"\n")
        assert cache.fingerprint(kit) != before
        assert cache.submission_key(SOURCES, (), "", kit=cache.fingerprint(kit)) != \
            cache.submission_key(SOURCES, (), "", kit=before)
    finally:
        target.write_bytes(original)
    assert cache.fingerprint(kit) == before


def test_the_readme_changes_nothing(kit):
    before = cache.fingerprint(kit)
    (kit / "README.md").write_text((kit / "README.md").read_text() + "\nA new paragraph.\n")
    assert cache.fingerprint(kit) == before


def test_a_new_file_in_the_grading_code_changes_the_key(kit):
    before = cache.fingerprint(kit)
    extra = kit / "grader" / "grading" / "new_check.py"
    extra.write_text("x = 1\n")
    try:
        assert cache.fingerprint(kit) != before
    finally:
        extra.unlink()


def changed_suites(tmp: Path) -> Path:
    copy = tmp / "suites"
    shutil.copytree(SUITES, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "lenet" / "test_hidden.py").write_text((copy / "lenet" / "test_hidden.py").read_text() + "\n")
    return copy


def test_every_grading_option_changes_the_key(tmp_path):
    """Each option of GradeOptions, changed alone, gives another key; a new option must be added here."""
    changes = {
        "isolation": Isolation.NONE,
        "timeout": 12.0,
        "call_timeout": 7.0,
        "limits": Limits(cpu_seconds=5),
        "quota": Quota(files=100),
        "threads": 2,
        "suites": changed_suites(tmp_path),
        "exercises": ("lenet",),
        "keyword": "forward",
        "secret": b"0123456789abcdef",
    }
    fields = {f.name for f in dataclasses.fields(GradeOptions)}
    assert set(changes) == fields - {"data"}, "an option the cache key may not cover"
    base = GradeOptions()
    keys = {cache.submission_key(SOURCES, (), cache.settings(base))}
    for name, value in changes.items():
        keys.add(cache.submission_key(SOURCES, (), cache.settings(dataclasses.replace(base, **{name: value}))))
    assert len(keys) == len(changes) + 1


def test_the_runs_own_data_folder_and_fresh_secret_do_not(tmp_path):
    """Each run draws a secret and a data folder: the same submission must still be found again."""
    first, second = GradeOptions().for_run(), GradeOptions().for_run()
    assert first.secret != second.secret and first.data != second.data
    assert cache.settings(dataclasses.replace(first, secret=None, data=tmp_path)) == cache.settings(GradeOptions())


def test_the_submission_and_its_notes_change_the_key():
    settings = cache.settings(GradeOptions())
    key = cache.submission_key(SOURCES, (), settings)
    assert cache.submission_key({"lenet.py": b"class Net: pass\n\n"}, (), settings) != key
    assert cache.submission_key({**SOURCES, "operations.py": b""}, (), settings) != key
    note = Note(NoteKind.MODULE_SKIPPED, "operations.py is larger than 2 MiB: it was not graded")
    assert cache.submission_key(SOURCES, (note,), settings) != key


def test_a_cached_result_comes_back_whole(tmp_path):
    result = SubmissionResult("ada", Status.ERROR, [TestRecord("test_a", "lenet", 2, 2, Outcome.PASSED)], 20,
                              flags=["runtime: ran into its disk quota"], missing=["operations.py"],
                              notes=[Note(NoteKind.QUOTA, "the submission filled its disk")], execution_time=1.5)
    store = cache.ResultCache(tmp_path)
    store.put("k", result)
    back = store.get("k", "bob")
    assert back is not None and back.student == "bob"
    assert dataclasses.replace(back, student="ada") == result
    assert store.get("other", "bob") is None
