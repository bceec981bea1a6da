"""Tiered hints, matched to the check that fails: a nudge toward the idea, then a closer look,
and last the line itself (as Kaggle's learntools does).

Part of the kit: no need to edit. The hints are written beside each exercise's solution and
copied into exercises/_kit/generated/ by the instructors' `grader stubs`. A failing check shows
the hints you have already unlocked; `python exercises/kit.py hint` unlocks the next one.
"""

from __future__ import annotations

from _kit.catalog import Exercise
from _kit.progress import State

HINT_COMMAND = "python exercises/kit.py hint"


def tiers(exercise: Exercise, check: str) -> tuple[str, ...]:
    """The hints of one check, from the gentlest to the line itself (empty when it has none)."""
    return exercise.generated.hints.get(check, ())


def key(exercise: Exercise, check: str) -> str:
    return f"{exercise.id}::{check}"


def unlocked(state: State, exercise: Exercise, check: str) -> int:
    """How many hints of `check` the student has unlocked (the first is always shown)."""
    available = len(tiers(exercise, check))
    return min(max(state.hints_seen.get(key(exercise, check), 1), 1), available)


def unlock_next(state: State, exercise: Exercise, check: str) -> int:
    """Unlock one more hint of `check` (if there is one); return how many are unlocked now."""
    level = min(unlocked(state, exercise, check) + 1, len(tiers(exercise, check)))
    state.hints_seen[key(exercise, check)] = level
    return level


def lines(state: State, exercise: Exercise, check: str, *, every: bool = False) -> list[str]:
    """The unlocked hint (all of them when `every`), with how to get the next one."""
    hints = tiers(exercise, check)
    if not hints:
        return []
    level = unlocked(state, exercise, check)
    out: list[str] = []
    for n in range(1, level + 1) if every else [level]:
        first, *more = hints[n - 1].splitlines()
        out.append(f"hint {n}/{len(hints)}: {first}" if not more else f"hint {n}/{len(hints)}:")
        out += [f"    {line}" for line in ([first, *more] if more else [])]
    if level < len(hints):
        out.append(f"more help: {HINT_COMMAND}")
    return out
