"""The student's progress, kept between runs in exercises/.progress.json (as rustlings keeps it).

Part of the kit: no need to edit, and safe to delete (the next run starts afresh). Every run
of the checks (pytest, the watch mode, a notebook's check cell) records each check's outcome
with a fingerprint of the code it ran on; a result counts only while that code is unchanged.
So any run, of one file, one check or all of them, can tell where you stand in every exercise.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from _kit import catalog, workspace
from _kit.catalog import Exercise

STATE = catalog.EXERCISES_DIR / ".progress.json"
VERSION = 1


class Outcome(str, Enum):
    """How a check ended."""

    PASSED = "passed"
    FAILED = "failed"
    NOT_STARTED = "not started yet"


@dataclass
class Result:
    """One check's latest outcome and the first line of its message."""

    outcome: Outcome
    message: str = ""


@dataclass
class ExerciseState:
    """The recorded outcomes of one exercise's checks, for the code they ran on."""

    fingerprint: str = ""
    results: dict[str, Result] = field(default_factory=dict)


@dataclass
class State:
    """Everything the kit remembers between runs."""

    exercises: dict[str, ExerciseState] = field(default_factory=dict)
    hints_seen: dict[str, int] = field(default_factory=dict)  # "<exercise>::<check>" -> tiers shown

    def record(self, exercise: Exercise, fingerprint: str, check: str, result: Result) -> None:
        """Remember `result` for `check`, forgetting results recorded for other code."""
        state = self.exercises.setdefault(exercise.id, ExerciseState(fingerprint))
        if state.fingerprint != fingerprint:
            state.fingerprint, state.results = fingerprint, {}
        state.results[check] = result

    def current(self, exercise: Exercise) -> dict[str, Result]:
        """The recorded results that still hold: those of the code as it is now."""
        state = self.exercises.get(exercise.id)
        if state is None or state.fingerprint != workspace.resolve(exercise).fingerprint:
            return {}
        return {name: r for name, r in state.results.items() if name in {c.name for c in exercise.checks}}


def load(path: Path = STATE) -> State:
    """The saved state, or a fresh one when there is none (or it cannot be read)."""
    try:
        raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("version") != VERSION:
            return State()
        exercises = {
            ex_id: ExerciseState(entry["fingerprint"],
                                 {name: Result(Outcome(r["outcome"]), r.get("message", "")) for name, r in entry["results"].items()})
            for ex_id, entry in raw.get("exercises", {}).items()
        }
        return State(exercises, {k: int(v) for k, v in raw.get("hints_seen", {}).items()})
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return State()


def save(state: State, path: Path = STATE) -> None:
    """Write `state` atomically, so that an interrupted run never leaves half a file."""
    raw = {
        "version": VERSION,
        "exercises": {
            ex_id: {"fingerprint": s.fingerprint,
                    "results": {name: {"outcome": r.outcome.value, "message": r.message} for name, r in s.results.items()}}
            for ex_id, s in state.exercises.items()
        },
        "hints_seen": state.hints_seen,
    }
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".progress-", suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump(raw, file, indent=1)
        os.replace(temporary, path)
    except OSError:
        pass  # a read-only folder: progress is shown but not kept
