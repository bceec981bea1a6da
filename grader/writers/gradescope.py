"""Gradescope's autograder results format (results.json), one per student.

Spec: https://gradescope-autograders.readthedocs.io/en/latest/specs/ (score, execution_time,
output, tests[] with name, number, score, max_score, status, output, visibility).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from grader import atomic
from grader.grading.engine import ClassReport
from grader.grading.results import Outcome, SubmissionResult


def results_json(result: SubmissionResult) -> dict[str, Any]:
    """One submission as a Gradescope results.json document."""
    tests = []
    for number, test in enumerate(result.tests, start=1):
        tests.append({
            "name": f"{test.exercise}: {test.name}",
            "number": str(number),
            "score": test.score,
            "max_score": test.max_score,
            "status": "passed" if test.outcome is Outcome.PASSED else "failed",
            "output": test.output,
            "visibility": "visible",
        })
    summary = [f"{result.score:g} / {result.max_score:g}"]
    if result.message:
        summary.append(result.message)
    return {
        "score": result.score,
        "execution_time": max(1, round(result.execution_time)),
        "output": "\n".join(summary),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def write_one(path: Path, result: SubmissionResult) -> None:
    """Write one results.json."""
    atomic.write_text(path, json.dumps(results_json(result), indent=2) + "\n")


def write(folder: Path, report: ClassReport) -> None:
    """Write <folder>/<student>/results.json for every student."""
    for result in report.results:
        write_one(Path(folder) / result.student / "results.json", result)
