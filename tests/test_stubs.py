"""The student side is generated from the solutions (the single source) and exercises/ is in sync
with them: the stubs, the notebooks and the hint data."""

from __future__ import annotations

import ast
import json
import shutil
import sys

import pytest

from grader import registry
from grader.authoring import notebooks, stubs
from grader.paths import EXERCISES, SOLUTIONS

sys.path.insert(0, str(EXERCISES))  # the kit is imported as `_kit`, as in exercises/
from _kit import catalog, workspace  # noqa: E402


def visible_checks(exercise: registry.Exercise) -> list[str]:
    tree = ast.parse((EXERCISES / f"test_{exercise.module}").read_text())
    return [n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test")]


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
    assert stubs.HINTS_BEGIN not in stub and "HINTS" not in stub


@pytest.mark.parametrize("exercise", registry.load(), ids=lambda e: e.id)
def test_every_visible_check_has_tiered_hints_in_the_solution(exercise):
    _, hints = stubs.split_hints((SOLUTIONS / exercise.module).read_text())
    checks = visible_checks(exercise)
    assert list(hints) == checks, "HINTS must list the visible checks, in the order of their file"
    for name, tiers in hints.items():
        assert 2 <= len(tiers) <= 4 and all(t.strip() for t in tiers), name
        assert len(set(tiers)) == len(tiers), f"{name}: two tiers say the same"


@pytest.mark.parametrize("exercise", registry.load(), ids=lambda e: e.id)
def test_generated_data_holds_the_hints_and_matches_the_kit(exercise):
    data = json.loads((EXERCISES / stubs.GENERATED / f"{exercise.id}.json").read_text())
    assert data["hints"] == {k: list(v) for k, v in stubs.split_hints((SOLUTIONS / exercise.module).read_text())[1].items()}
    kit_exercise = catalog.by_name(exercise.id)
    assert kit_exercise is not None
    assert workspace._file_source(kit_exercise).untouched, "the kit and the generator fingerprint stubs differently"
    assert workspace.notebook_source(kit_exercise).untouched, "the kit and the generator fingerprint notebooks differently"


@pytest.mark.parametrize("exercise", registry.load(), ids=lambda e: e.id)
def test_notebook_runs_each_check_once_after_its_task(exercise):
    cells = json.loads((EXERCISES / f"{exercise.stem}.ipynb").read_text())["cells"]
    roles = [c["metadata"].get("cnn_kit", {}).get("role") for c in cells]
    assert cells[0]["cell_type"] == "markdown" and roles[1] == "setup" and roles[-1] == "progress"
    checked: list[str] = []
    for before, cell, role in zip(roles, cells[1:], roles[1:]):
        if role == "check":
            assert before == "task"
            call = ast.parse("".join(cell["source"])).body[0].value
            assert call.args[0].value == exercise.stem
            checked += [a.value for a in call.args[1:]]
    assert sorted(checked) == sorted(visible_checks(exercise)) and len(set(checked)) == len(checked)
    tasks = "".join("".join(c["source"]) for c, r in zip(cells, roles) if r == "task")
    assert tasks.count('raise NotImplementedError("not started yet")') == stubs.count_regions((SOLUTIONS / exercise.module).read_text())


def test_checks_go_after_the_last_task_they_use():
    tasks = ["def a():\n    pass\n", "class B:\n    pass\n", "def c():\n    pass\n"]
    test_source = (
        "def helper():\n    return student('x').c()\n"
        "def test_one():\n    student('x').a()\n"
        "def test_two():\n    student('x').a(); student('x').B()\n"
        "def test_three():\n    helper()\n"
        "def test_four():\n    getattr(student('x'), 'B')\n"
    )
    assert notebooks.checks_by_task(tasks, test_source) == [["test_one"], ["test_two", "test_four"], ["test_three"]]


def test_make_stub_replaces_regions_at_their_indentation():
    source = "def f(x):\n    '''Doc.'''\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION\n"
    assert stubs.make_stub(source) == (
        "def f(x):\n    '''Doc.'''\n    # YOUR CODE HERE\n    raise NotImplementedError(\"not started yet\")\n"
    )


def test_hints_are_read_and_left_out_of_the_stub():
    source = ("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n\n\n"
              "### BEGIN HINTS\nHINTS = {\"test_f\": (\"a nudge\", \"return 1\")}\n### END HINTS\n")
    rest, hints = stubs.split_hints(source)
    assert hints == {"test_f": ("a nudge", "return 1")} and "HINTS" not in rest
    assert "HINTS" not in stubs.make_stub(source) and "return 1" not in stubs.make_stub(source)


@pytest.mark.parametrize(
    "source, problem",
    [
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n", "inside another region"),
        ("### END SOLUTION\n", "without"),
        ("def f():\n    ### BEGIN SOLUTION\n    pass\n", "never closed"),
        ("### BEGIN HINTS\nHINTS = {\n### END HINTS\n", "cannot read the hints"),
        ("### BEGIN HINTS\nOTHER = {}\n### END HINTS\n", "cannot read the hints"),
        ("### END HINTS\n### BEGIN HINTS\n", "expected one"),
    ],
)
def test_unbalanced_markers_are_reported_with_a_line(source, problem):
    with pytest.raises(stubs.RegionError, match=problem):
        stubs.make_stub(source, "x.py")


def test_drift_is_detected(tmp_path):
    shutil.copytree(EXERCISES, tmp_path, dirs_exist_ok=True)
    assert stubs.check_stubs(exercises=tmp_path) == []
    edited = registry.load()[0]
    (tmp_path / edited.module).write_text("# edited by hand\n")
    (tmp_path / stubs.GENERATED / f"{edited.id}.json").unlink()
    assert [d.module for d in stubs.check_stubs(exercises=tmp_path)] == [edited.module, f"{stubs.GENERATED}/{edited.id}.json"]
