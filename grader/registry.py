"""The exercise registry (exercises/registry.toml): order, titles, files and points."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from grader.paths import REGISTRY


class RegistryError(ValueError):
    """The registry file is missing or malformed."""


@dataclass(frozen=True)
class Exercise:
    """One exercise: a student module and its metadata."""

    id: str
    title: str
    module: str
    points: float

    @property
    def stem(self) -> str:
        """The module's import name, e.g. "lenet" for lenet.py."""
        return self.module.removesuffix(".py")


@cache
def load(path: Path = REGISTRY) -> tuple[Exercise, ...]:
    """Read the registry, in exercise order."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RegistryError(f"cannot read the exercise registry {path}: {exc}") from exc
    exercises = []
    for entry in raw.get("exercise", []):
        try:
            exercises.append(
                Exercise(
                    id=entry["id"],
                    title=entry["title"],
                    module=entry["module"],
                    points=float(entry["points"]),
                )
            )
        except KeyError as exc:
            raise RegistryError(f"{path}: an exercise lacks the key {exc}") from exc
    ids = [e.id for e in exercises]
    if len(set(ids)) != len(ids) or not exercises:
        raise RegistryError(f"{path}: exercise ids must be unique and at least one must exist")
    return tuple(exercises)


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
