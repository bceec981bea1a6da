"""Tiered hints, matched to the check that fails: a nudge toward the idea, then a closer look,
and last the line itself (as Kaggle's learntools does).

Part of the kit: no need to edit. The hints are written beside each exercise's solution and
copied into exercises/_kit/generated/ by the instructors' `grader stubs`. A failing check shows
the latest hint you have seen (the first, to begin with); `python exercises/kit.py hint` shows the next.
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


def shown(state: State, exercise: Exercise, check: str) -> int:
    """How many hints of `check` the student has seen so far."""
    return min(state.hints_seen.get(key(exercise, check), 0), len(tiers(exercise, check)))


def mark_shown(state: State, exercise: Exercise, check: str) -> None:
    """Remember that a failure showed the first hint of `check` (or the ones unlocked since)."""
    if tiers(exercise, check):
        state.hints_seen[key(exercise, check)] = max(shown(state, exercise, check), 1)


def unlock_next(state: State, exercise: Exercise, check: str) -> int:
    """Show one more hint of `check` (if there is one); return how many have been shown now."""
    level = min(shown(state, exercise, check) + 1, len(tiers(exercise, check)))
    state.hints_seen[key(exercise, check)] = level
    return level


def lines(state: State, exercise: Exercise, check: str, *, every: bool = False) -> list[str]:
    """The unlocked hint (all of them when `every`), with how to get the next one."""
    hints = tiers(exercise, check)
    if not hints:
        return []
    level = max(shown(state, exercise, check), 1)
    out: list[str] = []
    for n in range(1, level + 1) if every else [level]:
        first, *more = hints[n - 1].splitlines()
        out.append(f"hint {n}/{len(hints)}: {first}" if not more else f"hint {n}/{len(hints)}:")
        out += [f"    {line}" for line in ([first, *more] if more else [])]
    if level < len(hints):
        out.append(f"more help: {HINT_COMMAND}")
    return out
