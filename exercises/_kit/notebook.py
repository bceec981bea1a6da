"""Run visible checks from a notebook cell, on the notebook's own code. Part of the kit: no need to edit.

The kit's notebooks (exercises/<module>.ipynb) end each task with a cell such as::

    check("lenet", "test_net_parameters", "test_net_output_shape")

which runs those checks of exercises/test_lenet.py with student("lenet") standing for the
notebook's namespace, prints one line per check (with the explanation and hint of a failure),
and records the results in your progress. `progress()` prints the progress of every exercise.
nbgrader notebooks call run_visible instead, which raises when the check fails.
"""

from __future__ import annotations

import inspect
from typing import Any

from _kit import hints, progress as progress_store, summary, workspace
from _kit.catalog import by_name
from _kit.progress import Outcome
from _kit.runner import run_checks

MARKS = {Outcome.PASSED: "✔", Outcome.FAILED: "✘", Outcome.NOT_STARTED: "·"}


def _caller_globals() -> dict[str, Any]:
    frame = inspect.currentframe()
    assert frame is not None and frame.f_back is not None and frame.f_back.f_back is not None
    return frame.f_back.f_back.f_globals


def check(stem: str, *names: str) -> None:
    """Run the visible checks `names` of exercise `stem` on this notebook's code and print how each ended."""
    checks = run_checks(stem, names, _caller_globals())
    state = progress_store.load()
    lines: list[str] = []
    for run in checks:
        if run.result.outcome is Outcome.NOT_STARTED:
            lines.append(f"{MARKS[run.result.outcome]} {run.title}: {run.result.message}")
            continue
        lines.append(f"{MARKS[run.result.outcome]} {run.title}")
        if run.explanation is not None:
            lines += [f"    {line}" for line in run.explanation.text.splitlines()]
            lines += [f"    {line}" for line in hints.lines(state, run.exercise, run.name)]
            hints.mark_shown(state, run.exercise, run.name)
    progress_store.save(state)
    passed = sum(r.result.outcome is Outcome.PASSED for r in checks)
    lines.append(f"{passed}/{len(checks)} checks pass.")
    exercise = by_name(stem)
    if exercise is not None and workspace.resolve(exercise).form != "notebook":
        lines.append(f"(Save the notebook, Ctrl+S: your progress and the hand-in read exercises/{stem}.ipynb as saved.)")
    print("\n".join(lines))


def progress() -> None:
    """Print the progress of every exercise and the next thing to do."""
    print("\n".join(summary.progress_block(progress_store.load())))


def run_visible(stem: str, test: str, namespace: dict[str, Any]) -> None:
    """Run the visible check `test` of test_<stem>.py against `namespace` (pass globals()); raise an
    AssertionError that says what went wrong when it fails (nbgrader then marks the cell failed)."""
    for run in run_checks(stem, (test,), namespace):
        if run.result.outcome is not Outcome.PASSED:
            text = run.explanation.text if run.explanation else run.result.message
            raise AssertionError(f"{run.title}\n  {text}") from None
