"""How to grade a submission: a light module, so that the CLI and the engine can build options
without importing torch or pytest (the grading processes import those)."""

from __future__ import annotations

import atexit
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from grader import registry
from grader.grading import relabel
from grader.grading.secret import new_secret
from grader.inside.limits import Limits
from grader.isolation import sandbox
from grader.isolation.quota import Quota
from grader.paths import SUITES

atexit.register(relabel.remove_all)


@dataclass(frozen=True)
class GradeOptions:
    """How to grade: isolation, time budgets and limits."""

    isolation: sandbox.Isolation = sandbox.Isolation.BWRAP
    timeout: float = 900.0  # seconds for one whole submission
    call_timeout: float = 60.0  # seconds for one request to the worker, unless a check asks for longer
    limits: Limits = field(default_factory=Limits)  # what a worker sets itself (rlimits)
    quota: Quota = field(default_factory=Quota)  # what the host bounds: tmpfs size and files, memory cgroup
    threads: int = 1
    suites: Path = SUITES  # the hidden suites, one folder per exercise
    exercises: tuple[str, ...] = ()  # only these exercises' hidden tests (all when empty)
    keyword: str = ""  # a pytest -k expression selecting hidden tests (kit development only)
    secret: bytes | None = None  # where hidden inputs come from (grader.grading.secret); fresh per run when None
    data: Path | None = None  # the sandboxes' data folder, digits relabelled by the secret (grader.grading.digits)

    def graded(self) -> tuple[registry.Exercise, ...]:
        """The exercises this grading covers, in registry order."""
        return tuple(e for e in registry.load() if not self.exercises or e.id in self.exercises)

    def modules(self) -> tuple[str, ...]:
        """The student modules this grading expects."""
        return tuple(e.module for e in self.graded())

    def max_score(self) -> float:
        """What the graded exercises are worth."""
        return sum(e.points for e in self.graded())

    def for_run(self) -> GradeOptions:
        """These options with a run secret and the data folder that goes with it (drawn now if missing)."""
        options, secret = self, self.secret
        if secret is None:
            secret = new_secret()
            options = dataclasses.replace(options, secret=secret, data=None)
        if options.data is None:
            options = dataclasses.replace(options, data=relabel.relabelled_data(secret))
        return options
