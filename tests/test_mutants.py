"""Every realistic mistake in tests/mutants.py loses points under the hidden suite."""

from __future__ import annotations

import pytest
from mutants import MUTANTS, run


def test_at_least_thirty_mutants_cover_every_exercise():
    from grader import registry

    assert len(MUTANTS) >= 30
    assert {m.exercise for m in MUTANTS} == {e.id for e in registry.load()}


def test_every_mutant_applies_once():
    for mutant in MUTANTS:
        assert mutant.apply() != ""


@pytest.mark.slow
def test_every_mutant_loses_points(isolation, capsys):
    results = run()
    survivors = [m.description for m, score, maximum in results if score >= maximum]
    with capsys.disabled():
        print(f"\nmutation kill rate: {len(results) - len(survivors)}/{len(results)}")
    assert not survivors
