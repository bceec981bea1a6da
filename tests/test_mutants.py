"""Every realistic mistake in grader/exercises/*/mutants.py loses points under the hidden suite."""

from __future__ import annotations

import pytest

from grader import registry
from grader.authoring.mutation import all_mutants, run
from grader.paths import SOLUTIONS


def test_every_exercise_has_mutants():
    assert {m.exercise for m in all_mutants()} == {e.id for e in registry.load()}


def test_every_mutant_changes_its_solution():
    for mutant in all_mutants():  # apply() raises unless the old text occurs exactly once
        source = (SOLUTIONS / registry.by_id(mutant.exercise).module).read_text(encoding="utf-8")
        assert mutant.apply() != source, mutant.description


@pytest.mark.slow
def test_every_mutant_loses_points(isolation, capsys):
    results = run(all_mutants())
    survivors = [f"{r.mutant.exercise}: {r.mutant.description}" for r in results if not r.caught]
    with capsys.disabled():
        print(f"\nmutation kill rate: {len(results) - len(survivors)}/{len(results)}")
    assert not survivors
    assert all(r.score == r.maximum for r in results if r.mutant.advisory), "an advisory mistake must cost no points"
