"""The instructor's sanity run: the solutions must score full marks and the stubs zero,
through exactly the path that grades students."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader.grading.options import GradeOptions
from grader.grading.results import SubmissionResult
from grader.paths import EXERCISES, SOLUTIONS


@dataclass(frozen=True)
class SelfCheck:
    """How the reference solutions and the untouched stubs scored."""

    solutions: SubmissionResult
    stubs: SubmissionResult
    max_score: float  # what the checked exercises are worth, from the registry

    @property
    def ok(self) -> bool:
        full = self.solutions.score == self.solutions.max_score == self.max_score
        return full and self.stubs.score == 0


def run(options: GradeOptions, solutions_dir: Path = SOLUTIONS, stubs_dir: Path = EXERCISES) -> SelfCheck:
    """Grade the solutions and the stubs of the exercises `options` grade, as two submissions."""
    from grader.grading.runner import grade

    modules = options.modules()
    solutions = {m: (solutions_dir / m).read_bytes() for m in modules}
    stubs = {m: (stubs_dir / m).read_bytes() for m in modules}
    return SelfCheck(grade("solutions", solutions, options, slot=0), grade("stubs", stubs, options, slot=1),
                     options.max_score())
