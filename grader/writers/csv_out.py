"""The CSV gradebook: one row per student, one column per graded exercise, then the total.

Every text cell that a spreadsheet would read as a formula (one starting with =, +, -, @, a tab
or a carriage return) is prefixed with a single quote, as OWASP advises against CSV injection:
student ids and messages are the students' text. Numbers are written as numbers. (defusedcsv
does the same for =, +, -, @, | and %, but lets a leading tab or carriage return through.)
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path

from grader import atomic
from grader.grading.results import ClassReport

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: str | float) -> str:
    """A CSV cell that no spreadsheet runs as a formula."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:g}"
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def render(rows: Iterable[Sequence[str | float]]) -> str:
    """CSV text of `rows`, every cell neutralised."""
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\n")
    out.writerows([cell(value) for value in row] for row in rows)
    return buffer.getvalue()


def write(path: Path, report: ClassReport) -> None:
    """Write one row per student: id, status, each graded exercise's score, total, maximum, notes."""
    rows: list[list[str | float]] = [["student", "status", *report.exercises, "total", "max_score", "notes"]]
    for result in report.results:
        scores = result.exercise_scores()
        rows.append([result.student, result.status.value,
                     *[scores.get(e, {}).get("score", 0.0) for e in report.exercises],
                     result.score, report.max_score, result.message])
    atomic.write_text(path, render(rows))
