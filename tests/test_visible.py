"""The visible checks: every one fails on the stubs and passes on the solutions, and the
student sees a friendly report. Runs pytest as a student would, on a throwaway copy."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from grader import registry
from grader.paths import DATA, SOLUTIONS


def run_visible(kit: Path, *args: str) -> tuple[dict[str, str], str]:
    """Run `pytest exercises/` in `kit`; return each test's outcome and the output."""
    report = kit / "report.xml"
    env = {**os.environ, "CNN_KIT_DATA": str(DATA)}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "exercises", "-p", "no:cacheprovider", f"--junitxml={report}", *args],
        cwd=kit, env=env, capture_output=True, text=True, timeout=600,
    )
    outcomes = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        outcomes[name] = "failed" if case.find("failure") is not None or case.find("error") is not None else \
            "skipped" if case.find("skipped") is not None else "passed"
    return outcomes, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def stub_run(tmp_path_factory) -> tuple[dict[str, str], str]:
    kit = tmp_path_factory.mktemp("stubs")
    shutil.copytree(Path(__file__).parent.parent / "exercises", kit / "exercises",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return run_visible(kit)


@pytest.fixture(scope="module")
def solution_run(tmp_path_factory) -> tuple[dict[str, str], str]:
    kit = tmp_path_factory.mktemp("solutions")
    shutil.copytree(Path(__file__).parent.parent / "exercises", kit / "exercises",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for module in registry.student_modules():
        shutil.copy(SOLUTIONS / module, kit / "exercises" / module)
    return run_visible(kit)


def test_every_exercise_has_visible_checks(stub_run):
    outcomes, _ = stub_run
    for exercise in registry.load():
        assert any(f".test_{exercise.stem}::" in name or f"test_{exercise.stem}::" in name for name in outcomes), exercise


def test_stubs_fail_every_visible_check(stub_run):
    outcomes, output = stub_run
    assert outcomes and all(o == "failed" for o in outcomes.values()), [n for n, o in outcomes.items() if o != "failed"]
    assert "Traceback" not in output
    assert output.count("not started yet") >= len(outcomes)


def test_solutions_pass_every_visible_check(solution_run):
    outcomes, output = solution_run
    assert outcomes and all(o == "passed" for o in outcomes.values()), output[-3000:]
    assert f"Progress: {len(registry.load())}/{len(registry.load())} exercises done." in output


def test_progress_table_names_the_next_thing_to_do(stub_run):
    _, output = stub_run
    first = registry.load()[0]
    assert "your progress" in output
    assert f"Next: exercises/{first.module}" in output
    assert f"pytest exercises/test_{first.stem}.py" in output
