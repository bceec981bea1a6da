"""Mutation testing of the hidden suites: realistic mistakes applied to the reference solutions.

Each exercise lists its mutants in grader/exercises/<id>/mutants.toml (description, old, new,
and `advisory` for a mistake that leaves no trace in any output); every one of them must lose
points, or draw advice. `python tests/mutants.py` prints the kill-rate table; tests/test_mutants.py
asserts that nothing survives.
"""

from __future__ import annotations

import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

from grader import registry
from grader.authoring import stubs
from grader.grading.engine import grade_class
from grader.grading.options import GradeOptions
from grader.isolation import sandbox
from grader.paths import SOLUTIONS, SUITES

# The two long training runs are left out: a mutant that loses points without them loses them with them.
SLOW = ("test_mnist_training_reaches_95", "test_transfer_digits")


@dataclass(frozen=True)
class Mutant:
    """One mistake: `old` (which must occur exactly once in the solution) replaced by `new`.

    An `advisory` mutant's mistake leaves no trace in any output the grader can verify (a habit only
    the worker could see): it must draw advice instead of losing points."""

    description: str
    old: str
    new: str
    exercise: str = ""
    advisory: bool = False

    @property
    def slug(self) -> str:
        return "".join(c if c.isalnum() else "_" for c in self.description.lower())[:60]

    def apply(self) -> str:
        """The solution's text with the mistake in it."""
        module = registry.by_id(self.exercise).module
        source, _ = stubs.split_hints((SOLUTIONS / module).read_text(encoding="utf-8"))  # a hint may quote the line
        count = source.count(self.old)
        if count != 1:
            raise ValueError(f"{self.exercise}: {self.description!r}: the old text occurs {count} times")
        return source.replace(self.old, self.new)


def mutants(exercise: str) -> list[Mutant]:
    """The mutants of one exercise, tagged with its id."""
    data = tomllib.loads((SUITES / exercise / "mutants.toml").read_text(encoding="utf-8"))
    return [Mutant(m["description"], m["old"], m["new"], exercise, bool(m.get("advisory", False)))
            for m in data.get("mutant", [])]


def all_mutants() -> list[Mutant]:
    """Every exercise's mutants, in registry order."""
    return [m for e in registry.load() for m in mutants(e.id)]


@dataclass(frozen=True)
class Outcome:
    """How the hidden suite treated one mutant."""

    mutant: Mutant
    score: float
    maximum: float
    advice: int  # pieces of advice the records carry

    @property
    def caught(self) -> bool:
        """A mutant is caught when it loses points, or (advisory) when it draws advice."""
        return self.advice > 0 if self.mutant.advisory else self.score < self.maximum


def run(chosen: list[Mutant], jobs: int = 2) -> list[Outcome]:
    """Grade every mutant with its exercise's hidden tests."""
    isolation = sandbox.choose("auto")
    results: list[Outcome] = []
    by_exercise: dict[str, list[Mutant]] = {}
    for mutant in chosen:
        by_exercise.setdefault(mutant.exercise, []).append(mutant)
    with tempfile.TemporaryDirectory(prefix="cnnkit-mutants-") as tmp:
        for exercise, group in by_exercise.items():
            module = registry.by_id(exercise).module
            folder = Path(tmp) / exercise
            for mutant in group:
                (folder / mutant.slug).mkdir(parents=True)
                (folder / mutant.slug / module).write_text(mutant.apply(), encoding="utf-8")
            options = GradeOptions(isolation=isolation, exercises=(exercise,), keyword=f"not ({' or '.join(SLOW)})")
            report = grade_class(folder, options, jobs=jobs)
            scores = {r.student: r for r in report.results}
            for m in group:
                graded = scores[m.slug]
                results.append(Outcome(m, graded.score, graded.max_score, sum(len(r.advice) for r in graded.tests)))
    return results
