"""Gradescope's autograder results format (results.json), one per student.

Spec: https://gradescope-autograders.readthedocs.io/en/latest/specs/ (score, execution_time,
output, output_format, visibility, stdout_visibility, tests[] with name, number, score,
max_score, status, output, output_format, visibility). Each hidden check is one test; when it
is shown is up to the instructor (`Visibility`): the total and the per-exercise scores are
always shown, so "details after the due date" still tells students where they stand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader import atomic
from grader.grading.results import ClassReport, Outcome, SubmissionResult

LEVELS = ("visible", "after_due_date", "after_published", "hidden")


class VisibilityError(ValueError):
    """A visibility setting Gradescope does not know (one-line message)."""


@dataclass(frozen=True)
class Visibility:
    """When students see each hidden check: `default`, or per exercise id in `exercises`."""

    default: str = "visible"
    exercises: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, settings: list[str]) -> Visibility:
        """From settings such as ["after_due_date", "lenet=visible"] (a LEVEL, or EXERCISE=LEVEL)."""
        default, exercises = "visible", {}
        for setting in settings:
            exercise, _, level = setting.rpartition("=")
            if level not in LEVELS:
                raise VisibilityError(f"visibility {setting!r}: use LEVEL or EXERCISE=LEVEL, LEVEL one of "
                                      f"{', '.join(LEVELS)}")
            if exercise:
                exercises[exercise] = level
            else:
                default = level
        return cls(default, exercises)

    def of(self, exercise: str) -> str:
        return self.exercises.get(exercise, self.default)

    def arguments(self) -> list[str]:
        """These settings as `--visibility` arguments."""
        settings = [self.default] + [f"{e}={level}" for e, level in sorted(self.exercises.items())]
        return [arg for setting in settings for arg in ("--visibility", setting)]


def results_json(result: SubmissionResult, visibility: Visibility = Visibility()) -> dict[str, Any]:
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
            "output_format": "text",
            "visibility": visibility.of(test.exercise),
        })
    summary = [f"{result.score:g} / {result.max_score:g} ({result.status.value})"]
    summary += [f"{exercise}: {s['score']:g} / {s['max_score']:g}" for exercise, s in result.exercise_scores().items()]
    if result.message:
        summary.append(result.message)
    return {
        "score": result.score,
        "execution_time": max(1, round(result.execution_time)),
        "output": "\n".join(summary),
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def write_one(path: Path, result: SubmissionResult, visibility: Visibility = Visibility()) -> None:
    """Write one results.json."""
    atomic.write_text(path, json.dumps(results_json(result, visibility), indent=2) + "\n")


def write(folder: Path, report: ClassReport) -> None:
    """Write <folder>/<student>/results.json for every student."""
    for result in report.results:
        write_one(Path(folder) / result.student / "results.json", result)
