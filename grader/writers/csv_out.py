"""The CSV gradebook: one row per student, one column per exercise, then the total."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from grader import atomic, registry
from grader.grading.engine import ClassReport


def write(path: Path, report: ClassReport) -> None:
    """Write one row per student: id, status, each exercise's score, total, maximum."""
    exercises = [e.id for e in registry.load()]
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\n")
    out.writerow(["student", "status", *exercises, "total", "max_score"])
    for result in report.results:
        scores = result.exercise_scores()
        out.writerow([result.student, result.status.value,
                      *[_number(scores.get(e, {}).get("score", 0.0)) for e in exercises],
                      _number(result.score), _number(report.max_score)])
    atomic.write_text(path, buffer.getvalue())


def _number(value: float) -> str:
    return f"{value:g}"
