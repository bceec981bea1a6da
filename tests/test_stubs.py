"""Stubs are generated from the solutions, and exercises/ is in sync with them."""

from __future__ import annotations

import ast

import pytest

from grader import registry
from grader.authoring import stubs
from grader.paths import EXERCISES, SOLUTIONS


def test_exercises_are_in_sync_with_solutions():
    drift = stubs.check_stubs()
    assert not drift, f"run `grader stubs`: {drift}"


@pytest.mark.parametrize("module", registry.student_modules())
def test_every_solution_has_regions_and_a_stub_that_imports(module):
    solution = (SOLUTIONS / module).read_text()
    assert stubs.count_regions(solution) > 0
    stub = (EXERCISES / module).read_text()
    ast.parse(stub)
    assert stubs.BEGIN not in stub and "BEGIN SOLUTION" not in stub


def test_make_stub_replaces_regions_at_their_indentation():
    source = "def f(x):\n    '''Doc.'''\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION\n"
    assert stubs.make_stub(source) == (
        "def f(x):\n    '''Doc.'''\n    # YOUR CODE HERE\n    raise NotImplementedError(\"not started yet\")\n"
    )


@pytest.mark.parametrize(
    "source, problem",
    [
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n", "inside another region"),
        ("### END SOLUTION\n", "without"),
        ("def f():\n    ### BEGIN SOLUTION\n    pass\n", "never closed"),
    ],
)
def test_unbalanced_markers_are_reported_with_a_line(source, problem):
    with pytest.raises(stubs.RegionError, match=problem):
        stubs.make_stub(source, "x.py")


def test_drift_is_detected(tmp_path):
    for module in registry.student_modules():
        (tmp_path / module).write_text((EXERCISES / module).read_text())
    edited = registry.student_modules()[0]
    (tmp_path / edited).write_text("# edited by hand\n")
    assert [d.module for d in stubs.check_stubs(exercises=tmp_path)] == [edited]
