"""For kit authors: grade one exercise's module through the real grading path and print each test.

    python -m grader.authoring.devgrade lenet solutions/lenet.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from grader import registry
from grader.grading.options import GradeOptions
from grader.grading.runner import grade
from grader.isolation import sandbox


def main() -> None:
    exercise, path = sys.argv[1], Path(sys.argv[2])
    module = registry.by_id(exercise).module
    options = GradeOptions(isolation=sandbox.choose("auto"), exercises=(exercise,))
    started = time.monotonic()
    result = grade("dev", {module: path.read_bytes()}, options)
    for t in result.tests:
        print(f"{t.outcome.value:12} {t.score:>5g}/{t.max_score:<5g} {t.duration:6.2f}s  {t.name}  {t.output[:160]}")
    print(f"{result.score:g} / {result.max_score:g}  status={result.status.value}  "
          f"{time.monotonic() - started:.1f} s  flags={result.flags}")


if __name__ == "__main__":
    main()
