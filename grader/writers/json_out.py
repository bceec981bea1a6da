"""The full JSON gradebook: every submission, exercise and test, and how the run went."""

from __future__ import annotations

import json
from pathlib import Path

from grader import atomic
from grader.grading.results import ClassReport


def write(path: Path, report: ClassReport) -> None:
    """Write the class's results as JSON."""
    data = {
        "max_score": report.max_score,
        "exercises": list(report.exercises),
        "run": {"cached": report.cached, "elapsed": round(report.elapsed, 3), "uids": list(report.uids),
                "unreadable": len(report.unreadable)},
        "submissions": [r.to_json() for r in report.results],
    }
    atomic.write_text(path, json.dumps(data, indent=2) + "\n")
