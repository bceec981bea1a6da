"""`python exercises/kit.py hint [NAME]`: the next hint of the check that fails now.

Part of the kit: no need to edit. Without NAME it takes the first unfinished exercise (the one
the progress table points at); NAME may be an exercise (lenet) or a check (test_min_pool). When
the saved results do not cover the code as it is now, that exercise's checks run first, so the
hint is for the check that really fails.
"""

from __future__ import annotations

from _kit import catalog, hints, progress, summary
from _kit.catalog import Exercise
from _kit.progress import Outcome, State
from _kit.runner import run_checks


class AskError(ValueError):
    """The request names nothing the kit knows."""


def _named(name: str) -> tuple[Exercise, str | None]:
    """The exercise NAME names, and the check when it names one."""
    exercise = catalog.by_name(name)
    if exercise is not None:
        return exercise, None
    check = name.split("::")[-1]
    for exercise in catalog.exercises():
        if check in {c.name for c in exercise.checks}:
            return exercise, check
    raise AskError(f"no exercise or check is called {name!r}: try an exercise such as "
                   f"{catalog.exercises()[0].id} or a check name from its test file")


def _refreshed(exercise: Exercise, state: State) -> dict[str, progress.Result]:
    """The results of `exercise` on its code as it is now, running its checks if some are not known."""
    results = state.current(exercise)
    if len(results) < len(exercise.checks):
        run_checks(exercise.stem)
        state.exercises = progress.load().exercises
        results = state.current(exercise)
    return results


def _failing(exercise: Exercise, state: State) -> str | None:
    """The first check of `exercise` that fails (or is not started yet), on the code as it is now."""
    results = _refreshed(exercise, state)
    for outcome in (Outcome.FAILED, Outcome.NOT_STARTED):
        for check in exercise.checks:
            if check.name in results and results[check.name].outcome is outcome:
                return check.name
    return None


def _target(state: State) -> tuple[Exercise, str] | None:
    """The check that fails now: in the first exercise with a known failure, else in the first unfinished one."""
    for exercise in catalog.exercises():
        results = state.current(exercise)
        failed = [c.name for c in exercise.checks if c.name in results and results[c.name].outcome is Outcome.FAILED]
        if failed:
            return exercise, failed[0]
    for exercise in catalog.exercises():
        if summary.standing(exercise, state).status is not summary.Status.DONE:
            check = _failing(exercise, state)
            if check is not None:
                return exercise, check
    return None


def next_hint(name: str | None = None) -> list[str]:
    """Show one more hint of the chosen check; return the lines to print."""
    state = progress.load()
    if name:
        exercise, check = _named(name)
        check = check or _failing(exercise, state)
        if check is None:
            return [f"Every check of exercises/{exercise.module} passes: no hint needed."]
    else:
        found = _target(state)
        if found is None:
            return [f"Every check of every exercise passes: no hint needed. {summary.HANDIN_COMMAND} hands your work in."]
        exercise, check = found
    title = next(c.title for c in exercise.checks if c.name == check)
    tiers = hints.tiers(exercise, check)
    lines = [f"{exercise.module} · {check}: {title}"]
    result = state.current(exercise).get(check)
    if result is not None:
        lines.append(f"  now: {result.message}" if result.outcome is not Outcome.PASSED else "  now: it passes")
    if not tiers:
        return lines + ["  This check has no hints: read the docstring of the function it calls."]
    hints.unlock_next(state, exercise, check)
    progress.save(state)
    lines += [f"  {line}" for line in hints.lines(state, exercise, check, every=True)]
    if hints.shown(state, exercise, check) == len(tiers):
        lines.append("  That was the last hint: it shows the line itself. Type it in, then re-check.")
    return lines
