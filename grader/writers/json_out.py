"""The full JSON gradebook: every submission, exercise and test."""

from __future__ import annotations

import json
from pathlib import Path

from grader import atomic
from grader.grading.engine import ClassReport


def write(path: Path, report: ClassReport) -> None:
    """Write the class's results as JSON."""
    data = {"max_score": report.max_score, "submissions": [r.to_json() for r in report.results]}
    atomic.write_text(path, json.dumps(data, indent=2) + "\n")
