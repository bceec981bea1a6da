"""Where the student stands in every exercise, and the one thing to do next.

Part of the kit: no need to edit. The table covers all the exercises of the registry, whatever
the run checked: results from earlier runs count while the code they ran on is unchanged.
"All done" appears only when every check of every exercise has passed on the code as it is.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import Enum

from _kit import catalog, hints, workspace
from _kit.catalog import Exercise
from _kit.progress import Outcome, Result, State

WATCH_COMMAND = "python exercises/kit.py watch"
HANDIN_COMMAND = "python exercises/kit.py handin"
TRAIN_COMMAND = "python exercises/kit.py train"


class Status(Enum):
    """Where an exercise stands."""

    DONE = "done"
    IN_PROGRESS = "in progress"
    NOT_STARTED = "not started yet"
    UNCHECKED = "not checked since it changed"


MARKS = {Status.DONE: "✔", Status.IN_PROGRESS: "…", Status.NOT_STARTED: "·", Status.UNCHECKED: "?"}


@dataclass(frozen=True)
class Standing:
    """One exercise's status and its first unfinished check."""

    exercise: Exercise
    status: Status
    passed: int
    total: int
    first_open: tuple[str, Result | None] | None  # (check name, its result if known)


def standing(exercise: Exercise, state: State) -> Standing:
    """Where `exercise` stands, from the results that hold for its code as it is now."""
    checks = [c.name for c in exercise.checks]
    results = state.current(exercise)
    passed = sum(results.get(c) is not None and results[c].outcome is Outcome.PASSED for c in checks)
    failing = next((c for c in checks if c in results and results[c].outcome is Outcome.FAILED), None)
    open_ = next((c for c in checks if c not in results or results[c].outcome is not Outcome.PASSED), None)
    first = failing or open_
    first_open = (first, results.get(first)) if first else None
    if checks and passed == len(checks):
        status = Status.DONE
    elif failing or (passed and len(results) == len(checks)):
        status = Status.IN_PROGRESS
    elif workspace.resolve(exercise).untouched or (results and all(r.outcome is Outcome.NOT_STARTED for r in results.values())
                                                   and len(results) == len(checks)):
        status = Status.NOT_STARTED
    else:
        status = Status.UNCHECKED
    return Standing(exercise, status, passed, len(checks), first_open)


def table(standings: list[Standing]) -> list[str]:
    """One line per exercise: mark, number, file, checks passed, status."""
    width = max(len(s.exercise.module) for s in standings)
    lines = []
    for number, s in enumerate(standings, start=1):
        form = "" if workspace.resolve(s.exercise).form == "file" else "  (notebook)"
        lines.append(f"{MARKS[s.status]} {number} {s.exercise.module.ljust(width)}  {s.passed:>2}/{s.total:<2}  "
                     f"{s.status.value}{form}")
    return lines


def next_step(standings: list[Standing], state: State, focus: Collection[Exercise] = (),
              explained: Collection[tuple[str, str]] = ()) -> list[str]:
    """What to do now: the first open check of the first unfinished exercise, among those in `focus`
    (the ones the run checked) when one of them is unfinished. A check in `explained` was just
    explained at length, so it is only named."""
    unfinished = [s for s in standings if s.status is not Status.DONE]
    upcoming = next((s for s in unfinished if s.exercise in focus), unfinished[0] if unfinished else None)
    if upcoming is None:
        return [f"All {len(standings)} exercises done. Well played! Hand your work in: {HANDIN_COMMAND}"]
    exercise = upcoming.exercise
    shown = f"exercises/{workspace.resolve(exercise).path.name}"
    run = f"pytest exercises/{exercise.test_file.name}"
    if upcoming.status is Status.NOT_STARTED:
        return [f"Next: {shown} ({exercise.title}): read its docstrings and replace the first "
                "`raise NotImplementedError`.",
                f"  Then check it: {run}   (or keep `{WATCH_COMMAND}` running)"]
    if upcoming.status is Status.UNCHECKED:
        return [f"Next: {shown} changed since it was last checked: {run}   (or keep `{WATCH_COMMAND}` running)"]
    check, result = upcoming.first_open or ("", None)
    if (exercise.id, check) in explained:
        return [f"Next: {shown}, check {check} (explained above).", f"  Re-check: {run}   (or keep `{WATCH_COMMAND}` running)"]
    title = next((c.title for c in exercise.checks if c.name == check), check)
    lines = [f"Next: {shown}, check {check}: {title}"]
    if result is not None and result.message:
        lines.append(f"  {result.message}")
    lines += [f"  {line}" for line in hints.lines(state, exercise, check)]
    hints.mark_shown(state, exercise, check)
    lines.append(f"  Re-check: {run}   (or keep `{WATCH_COMMAND}` running)")
    return lines


def pictures(standings: list[Standing]) -> list[str]:
    """The pictures of the student's own MNIST run, or how to draw them once training works."""
    drawn = sorted(catalog.PICTURES_DIR.glob("*.png")) if catalog.PICTURES_DIR.is_dir() else []
    if drawn:
        return [f"Pictures of your own MNIST run: {', '.join(f'exercises/pictures/{p.name}' for p in drawn)}"]
    training = next((s for s in standings if s.exercise.id == "training"), None)
    if training is not None and training.status is Status.DONE:
        return [f"Train your MNIST classifier and see its curves and conv1's kernels: {TRAIN_COMMAND}"]
    return []


def progress_block(state: State, notes: Sequence[str] = (), focus: Collection[Exercise] = (),
                   explained: Collection[tuple[str, str]] = ()) -> list[str]:
    """The closing lines of every run: the table, the count, what the run covered, the next step."""
    standings = [standing(e, state) for e in catalog.exercises()]
    done = sum(s.status is Status.DONE for s in standings)
    lines = table(standings)
    lines += pictures(standings)
    lines.append(f"Progress: {done}/{len(standings)} exercises done.")
    lines += notes
    lines += next_step(standings, state, focus, explained)
    return lines
