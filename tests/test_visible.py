"""The visible checks: every one fails on the stubs and passes on the solutions, they catch the
mistakes they are meant to catch, and the student sees a short report that ends with the
progress of every exercise and the next step. Runs pytest as a student would, on a throwaway copy."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from grader import registry
from grader.paths import DATA, EXERCISES, SOLUTIONS

VARIANTS = Path(__file__).parent / "variants"


def kit_copy(target: Path, solved: tuple[str, ...] = ()) -> Path:
    """A copy of exercises/ in `target`, with the solutions of the `solved` modules in place."""
    shutil.copytree(EXERCISES, target / "exercises", ignore=shutil.ignore_patterns("__pycache__", ".progress.json",
                                                                                  ".pytest_cache", "pictures"))
    for module in solved:
        shutil.copy(SOLUTIONS / module, target / "exercises" / module)
    return target


def run_visible(kit: Path, *args: str) -> tuple[dict[str, tuple[str, str]], str]:
    """Run `pytest exercises/` in `kit`; return each check's (outcome, message) and the output."""
    report = kit / "report.xml"
    env = {**os.environ, "CNN_KIT_DATA": str(DATA)}
    proc = subprocess.run([sys.executable, "-m", "pytest", *(args or ("exercises",)), f"--junitxml={report}"],
                          cwd=kit, env=env, capture_output=True, text=True, timeout=600)
    outcomes = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        problem = case.find("failure") if case.find("failure") is not None else case.find("error")
        outcomes[name] = ("failed", problem.text or "") if problem is not None else \
            ("skipped", "") if case.find("skipped") is not None else ("passed", "")
    return outcomes, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def stub_run(tmp_path_factory) -> tuple[dict[str, tuple[str, str]], str]:
    return run_visible(kit_copy(tmp_path_factory.mktemp("stubs")))


@pytest.fixture(scope="module")
def solution_run(tmp_path_factory) -> tuple[dict[str, tuple[str, str]], str]:
    return run_visible(kit_copy(tmp_path_factory.mktemp("solutions"), registry.student_modules()))


def test_every_exercise_has_visible_checks(stub_run):
    outcomes, _ = stub_run
    for exercise in registry.load():
        assert any(f"test_{exercise.stem}::" in name for name in outcomes), exercise


def test_stubs_fail_every_visible_check_as_not_started(stub_run):
    outcomes, output = stub_run
    assert outcomes and all(o == "failed" for o, _ in outcomes.values()), [n for n, (o, _) in outcomes.items() if o != "failed"]
    assert all("not started yet" in message for _, message in outcomes.values())
    assert "Traceback" not in output


def test_untouched_stubs_give_a_short_report_that_ends_with_the_next_step(stub_run):
    _, output = stub_run
    lines = output.rstrip("\n").splitlines()
    first = registry.load()[0]
    assert len(lines) < 40, output
    assert "FAILED" not in output and "what to fix" not in output
    table = lines[-len(registry.load()) - 3 : -3]
    assert "your progress" in lines[-len(registry.load()) - 4]
    assert [line.split()[2] for line in table] == [e.module for e in registry.load()]
    assert all(line.endswith("not started yet") for line in table)
    assert lines[-3] == f"Progress: 0/{len(registry.load())} exercises done."
    assert lines[-2].startswith(f"Next: exercises/{first.module}")
    assert f"pytest exercises/test_{first.stem}.py" in lines[-1]


def test_solutions_pass_every_visible_check(solution_run):
    outcomes, output = solution_run
    assert outcomes and all(o == "passed" for o, _ in outcomes.values()), output[-3000:]
    lines = output.rstrip("\n").splitlines()
    assert lines[-2] == f"Progress: {len(registry.load())}/{len(registry.load())} exercises done."
    assert lines[-1].startswith(f"All {len(registry.load())} exercises done.")


@pytest.mark.parametrize("variant, module", [
    ("lenet_functional.py", "lenet.py"),
    ("lenet_sequential.py", "lenet.py"),
    ("training_alt.py", "training.py"),
    ("training_float32.py", "training.py"),
    ("generic_net_functional_pool.py", "generic_net.py"),
    ("loss_backprop_alt.py", "loss_backprop.py"),
    ("data_loading_alt.py", "data_loading.py"),
])
def test_correct_work_written_differently_passes(tmp_path, variant, module):
    kit = kit_copy(tmp_path)
    shutil.copy(VARIANTS / variant, kit / "exercises" / module)
    outcomes, output = run_visible(kit, f"exercises/test_{module}")
    assert outcomes and all(o == "passed" for o, _ in outcomes.values()), output[-3000:]


@pytest.mark.parametrize("variant, module, caught", [
    ("lenet_no_relu.py", "lenet.py", {"test_net_any_batch_size", "test_lenet_softmax"}),
    ("lenet_relu_on_output.py", "lenet.py", {"test_net_any_batch_size", "test_lenet_softmax"}),
    ("generic_net_relu_on_output.py", "generic_net.py", {"test_net_any_batch_size"}),
])
def test_visible_checks_catch_a_lenet_with_wrong_relus(tmp_path, variant, module, caught):
    kit = kit_copy(tmp_path)
    shutil.copy(VARIANTS / variant, kit / "exercises" / module)
    outcomes, output = run_visible(kit, f"exercises/test_{module}")
    failed = {name.split("::")[1] for name, (o, _) in outcomes.items() if o == "failed"}
    assert failed == caught, output[-3000:]
    assert "wrong values" in output and "ReLU" in output
