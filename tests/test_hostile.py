"""Hostile submissions: no cheat gains a point, none harms the grader or another student.

Each file in tests/hostile/ is a lenet.py that attacks one way and implements nothing; they
are graded as one class beside a perfect submission, with tight limits so that the memory
and fork bombs stay small on the machine running the tests: once in bubblewrap's sandboxes,
once through the uid fallback (forced here, as where namespaces cannot be created; where the
development Python cannot serve it, tests/test_gradescope.py grades this class through the
fallback with the Gradescope bundle's own install).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from grader import registry
from grader.grading.engine import grade_class
from grader.grading.options import GradeOptions
from grader.grading.results import ClassReport
from grader.inside.limits import Limits
from grader.isolation import processes
from grader.isolation.sandbox import Isolation

ATTACKS = sorted(p.stem for p in (Path(__file__).parent / "hostile").glob("*.py") if not p.name.startswith("shipped_"))
LENET_POINTS = registry.by_id("lenet").points
LIMITS = Limits(memory_bytes=5 << 30, processes=32, file_bytes=8 << 20, cpu_seconds=120)


@pytest.fixture(scope="module", params=["bwrap", "uid"])
def mode(request) -> Isolation:
    return request.getfixturevalue("isolation" if request.param == "bwrap" else "uid_fallback")


@pytest.fixture(scope="module")
def report(hostile_class, mode) -> ClassReport:
    options = GradeOptions(isolation=mode, exercises=("lenet",), timeout=90, call_timeout=10, limits=LIMITS)
    started = time.monotonic()
    report = grade_class(hostile_class, options, jobs=2)
    elapsed = time.monotonic() - started
    print(f"\nhostile class of {len(report.results)} graded in {elapsed:.1f} s ({mode.value})")
    return report


@pytest.fixture(scope="module")
def graded(report) -> dict:
    return {r.student: r for r in report.results}


@pytest.mark.parametrize("attack", [*ATTACKS, "shipped_configuration"])
def test_no_attack_gains_a_point(graded, attack):
    result = graded[attack]
    assert result.score == 0, [(t.name, t.output) for t in result.tests if t.score]
    assert result.max_score == LENET_POINTS


def test_perfect_submission_beside_them_gets_full_marks(graded, mode):
    assert graded["perfect"].score == LENET_POINTS
    assert graded["perfect"].status.value == "graded" and not graded["perfect"].flags
    assert graded["perfect"].isolation == mode.value


@pytest.mark.parametrize("attack, flag", [
    ("patch_pytest", "imports pytest internals"),
    ("patch_torch", "patches torch.allclose"),
    ("always_equal", "overrides equality"),
    ("os_exit_at_import", "calls os._exit"),
    ("kill_grader", "uses signals"),
    ("steal_solutions", "reaches for files outside its folder"),
    ("exit_at_import", "calls sys.exit"),
    ("patch_builtins", "touches builtins"),
    ("sys_modules", "touches sys.modules"),
    ("signals", "uses signals"),
])
def test_suspicious_submissions_are_flagged(graded, attack, flag):
    assert any(flag in f for f in graded[attack].flags), graded[attack].flags


def test_crashes_and_hangs_get_a_clear_status(graded):
    assert graded["infinite_loop"].status.value == "timeout"
    assert graded["os_exit_at_import"].status.value == "error"
    assert any("exited" in f for f in graded["os_exit_at_import"].flags)
    memory = graded["memory_bomb"]  # stopped by the memory limit: a MemoryError in the student's code
    assert memory.tests and all(t.score == 0 for t in memory.tests)
    assert all("MemoryError" in t.output for t in memory.tests if t.name.startswith("test_net"))
    forks = graded["fork_bomb"]  # stopped by the process limit, it spins until the check's deadline
    assert forks.status.value == "timeout" and forks.tests and all(t.score == 0 for t in forks.tests)


def test_output_is_capped_and_flagged(graded):
    assert any("output" in f for f in graded["output_flood"].flags)


def test_every_process_a_submission_started_is_gone(report):
    """Only this run's uids are looked at: another grading on the machine has its own."""
    assert len(report.uids) == 2
    assert processes.of_uids(report.uids) == []


def test_the_grader_survives_attempts_to_kill_it(graded):
    """kill_grader signals every process it can see: it ends only itself, and every check of it and
    of its neighbours is still recorded."""
    killer = graded["kill_grader"]
    assert killer.status.value == "error" and any("killed by signal SIGKILL" in f for f in killer.flags), killer.flags
    assert len(killer.tests) == len(graded["perfect"].tests)
    assert graded["perfect"].score == LENET_POINTS
