"""The instructor's sanity run: the solutions must score full marks and the stubs zero,
through exactly the path that grades students."""

from __future__ import annotations

from dataclasses import dataclass

from grader import registry
from grader.grading.options import GradeOptions
from grader.grading.results import SubmissionResult
from grader.paths import EXERCISES, SOLUTIONS


@dataclass(frozen=True)
class SelfCheck:
    """How the reference solutions and the untouched stubs scored."""

    solutions: SubmissionResult
    stubs: SubmissionResult

    @property
    def ok(self) -> bool:
        full = self.solutions.score == self.solutions.max_score == registry.max_points()
        return full and self.stubs.score == 0


def run(options: GradeOptions) -> SelfCheck:
    """Grade solutions/ and exercises/ as two submissions."""
    from grader.grading.runner import grade

    modules = registry.student_modules()
    solutions = {m: (SOLUTIONS / m).read_bytes() for m in modules}
    stubs = {m: (EXERCISES / m).read_bytes() for m in modules}
    return SelfCheck(grade("solutions", solutions, options, slot=0), grade("stubs", stubs, options, slot=1))
