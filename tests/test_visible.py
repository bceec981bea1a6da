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
from grader.authoring import stubs
from grader.paths import DATA, EXERCISES, SOLUTIONS
from test_variants import VARIANTS, module_of  # the correct variants graded there pass every visible check


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
    assert outcomes and all(o == "failed" for o, _ in outcomes.values()), \
        [n for n, (o, _) in outcomes.items() if o != "failed"]
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


def solution_with(module: str, *changes: tuple[str, str]) -> str:
    """The reference solution of `module`, with each (old, new) change made (each old text must be there)."""
    text, _ = stubs.split_hints((SOLUTIONS / module).read_text())
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new)
    return text


NO_RELU = (("x = self.pool(F.relu(self.conv1(x)))", "x = self.pool(self.conv1(x))"),
           ("x = self.pool(F.relu(self.conv2(x)))", "x = self.pool(self.conv2(x))"),
           ("x = F.relu(self.fc1(x))", "x = self.fc1(x)"), ("x = F.relu(self.fc2(x))", "x = self.fc2(x)"),
           ("            nn.ReLU(),\n", ""))
RELU_ON_SCORES = (("        return self.fc3(x)\n", "        return F.relu(self.fc3(x))\n"),)
CORRECT = {  # correct work written differently: every visible check passes
    **{variant.stem: (module_of(variant), variant.read_text()) for variant in sorted(VARIANTS.glob("*.py"))},
    "training_float32_metrics": ("training.py", solution_with(
        "training.py",
        ("    return 100.0 * correct / total\n",
         "    return (torch.tensor(correct, dtype=torch.float32) / total * 100).item()\n"),
        ("    return [100.0 * c / t if t > 0 else math.nan for c, t in zip(correct.tolist(), total.tolist())]",
         "    return [float(p) for p in correct.float() / total.float() * 100]  # 200 / 3 is 66.66666412353516"))),
    "generic_net_F_max_pool2d": ("generic_net.py", solution_with(
        "generic_net.py", ("        self.pool = nn.MaxPool2d(kernel_size=2, stride=2, padding=0)\n", ""),
        ("x = self.pool(F.relu(self.conv1(x)))", "x = F.max_pool2d(F.relu(self.conv1(x)), 2)"),
        ("x = self.pool(F.relu(self.conv2(x)))", "x = F.max_pool2d(F.relu(self.conv2(x)), kernel_size=2, stride=2)"))),
}
WRONG = {  # a LeNet with wrong ReLUs: the checks that compare with LeNet on given weights catch it
    "lenet_no_relu": ("lenet.py", solution_with("lenet.py", *NO_RELU),
                      {"test_net_any_batch_size", "test_lenet_softmax"}),
    "lenet_relu_on_scores": ("lenet.py", solution_with("lenet.py", *RELU_ON_SCORES, (
        "            nn.Linear(84, num_classes),\n",
        "            nn.Linear(84, num_classes),\n            nn.ReLU(),\n")),
        {"test_net_any_batch_size", "test_lenet_softmax"}),
    "generic_net_relu_on_scores": ("generic_net.py", solution_with("generic_net.py", *RELU_ON_SCORES),
                                   {"test_net_any_batch_size"}),
}


@pytest.mark.parametrize("name", CORRECT)
def test_correct_work_written_differently_passes(tmp_path, name):
    module, code = CORRECT[name]
    kit = kit_copy(tmp_path)
    (kit / "exercises" / module).write_text(code)
    outcomes, output = run_visible(kit, f"exercises/test_{module}")
    assert outcomes and all(o == "passed" for o, _ in outcomes.values()), output[-3000:]


@pytest.mark.parametrize("name", WRONG)
def test_visible_checks_catch_a_lenet_with_wrong_relus(tmp_path, name):
    module, code, caught = WRONG[name]
    kit = kit_copy(tmp_path)
    (kit / "exercises" / module).write_text(code)
    outcomes, output = run_visible(kit, f"exercises/test_{module}")
    failed = {name.split("::")[1] for name, (o, _) in outcomes.items() if o == "failed"}
    assert failed == caught, output[-3000:]
    assert "wrong values" in output and "ReLU" in output
