"""Attacks on the loss/backprop and data exercises: no forgery gains a point.

Each file in tests/attacks/<exercise>/ is a submission built from the stub that tries to earn
points without doing the work: by rewriting the worker's interpreter or channel at import,
sending forged graphs, patching torch or torchvision, or returning canned values. They are
graded as one class per exercise beside the untouched stub (the control) and the reference
solution, through the real grading path.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader import registry
from grader.grading.engine import grade_class
from grader.grading.options import GradeOptions
from grader.paths import EXERCISES, SOLUTIONS

ATTACKS = Path(__file__).parent / "attacks"
TARGETS = ("loss_backprop", "data_loading")
CASES = [(exercise, path.stem) for exercise in TARGETS for path in sorted((ATTACKS / exercise).glob("*.py"))]


@pytest.fixture(scope="module")
def graded(tmp_path_factory, isolation) -> dict[str, dict]:
    """Each exercise's attacks, its stub and its solution, graded as one class."""
    results = {}
    for exercise in TARGETS:
        module = registry.by_id(exercise).module
        klass = tmp_path_factory.mktemp(exercise)
        submissions = {path.stem: path for path in (ATTACKS / exercise).glob("*.py")}
        submissions.update(stub_control=EXERCISES / module, reference=SOLUTIONS / module)
        for student, source in submissions.items():
            (klass / student).mkdir()
            shutil.copy(source, klass / student / module)
        report = grade_class(klass, GradeOptions(isolation=isolation, exercises=(exercise,), timeout=300), jobs=2)
        results[exercise] = {r.student: r for r in report.results}
    return results


def test_there_are_attacks_for_each_exercise():
    assert {exercise for exercise, _ in CASES} == set(TARGETS)


@pytest.mark.parametrize("exercise", TARGETS)
def test_the_control_and_the_reference(graded, exercise):
    points = registry.by_id(exercise).points
    assert graded[exercise]["stub_control"].score == 0
    reference = graded[exercise]["reference"]
    assert reference.score == reference.max_score == points, \
        [(t.name, t.output) for t in reference.tests if not t.score]


@pytest.mark.parametrize("exercise, attack", CASES)
def test_no_attack_gains_a_point(graded, exercise, attack):
    result = graded[exercise][attack]
    assert result.max_score == registry.by_id(exercise).points
    assert result.score == graded[exercise]["stub_control"].score == 0, \
        [(t.name, t.output) for t in result.tests if t.score]
