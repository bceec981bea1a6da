"""The hidden suite spends each exercise's points exactly, every visible check has a hidden
counterpart of the same name, and the README's tables list the registry's exercises, in order, with
their points."""

from __future__ import annotations

import ast
import re
from collections import defaultdict

import pytest

from grader import registry
from grader.grading import suite
from grader.paths import EXERCISES, ROOT


@pytest.fixture(scope="module")
def collected() -> list[suite.Item]:
    return suite.collect()


@pytest.fixture(scope="module")
def hidden_items(collected) -> list[tuple[str, float, str]]:
    return [(i.exercise, i.points, i.function) for i in collected]


def test_points_add_up_to_the_registry(hidden_items):
    spent: dict[str, float] = defaultdict(float)
    for exercise, points, _ in hidden_items:
        spent[exercise] += points
    assert dict(spent) == {e.id: e.points for e in registry.load()}


def test_every_hidden_test_carries_points_unless_advisory(collected):
    assert all((i.points > 0) != i.advisory for i in collected), \
        [i.name for i in collected if (i.points > 0) == i.advisory]


@pytest.mark.parametrize("exercise", registry.load(), ids=lambda e: e.id)
def test_every_visible_check_has_a_hidden_counterpart(hidden_items, exercise):
    tree = ast.parse((EXERCISES / f"test_{exercise.stem}.py").read_text())
    visible = {n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")}
    hidden = {name for ex, _, name in hidden_items if ex == exercise.id}
    assert visible and visible <= hidden, visible - hidden


def test_the_readme_tables_follow_the_registry():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    exercises = registry.load()
    order = re.findall(r"^\| (\d+) \| (\w+\.py) \|", readme, re.MULTILINE)
    assert order == [(str(n), e.module) for n, e in enumerate(exercises, 1)]
    points = re.findall(r"^\| (\w+) \| (\d+) \|", readme, re.MULTILINE)
    assert points == [(e.id, f"{e.points:g}") for e in exercises]
