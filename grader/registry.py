"""The exercise registry (exercises/registry.toml): order, titles, files and points.

Read by the kit's own reader (exercises/_kit/catalog.py), so the grader and the students' kit
can never disagree about it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from grader.kit import catalog
from grader.paths import REGISTRY

Exercise = catalog.Exercise
RegistryError = catalog.RegistryError


@cache
def load(path: Path = REGISTRY) -> tuple[Exercise, ...]:
    """Read the registry, in exercise order."""
    return catalog.read_registry(path)


def by_id(exercise_id: str) -> Exercise:
    """The exercise with this id."""
    for exercise in load():
        if exercise.id == exercise_id:
            return exercise
    raise RegistryError(f"no exercise {exercise_id!r} in the registry")


def student_modules() -> tuple[str, ...]:
    """File names of the student modules, in order."""
    return tuple(e.module for e in load())


def max_points() -> float:
    """The kit's total budget of points."""
    return sum(e.points for e in load())
