"""The full JSON gradebook: every submission, exercise and test, and how the run went."""

from __future__ import annotations

import json
from pathlib import Path

from grader import atomic
from grader.grading.results import ClassReport


def write(path: Path, report: ClassReport) -> None:
    """Write the class's results as JSON."""
    atomic.write_text(path, json.dumps(report.to_json(), indent=2) + "\n")

