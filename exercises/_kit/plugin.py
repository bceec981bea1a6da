"""The kit's pytest plugin: checks that talk like a teaching assistant, and progress that is true.

Part of the kit: no need to edit (exercises/conftest.py loads it). For every visible check it
records the outcome, explains a failure in a few lines with the check's hint, and keeps the
result in exercises/.progress.json. The run ends with the failures it found, the progress of
every exercise, what the run covered (one file, -k, --lf, -x, Ctrl-C) and the next step: these
are the last lines printed.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import pytest

from _kit import catalog, hints, progress, summary, workspace
from _kit.catalog import Exercise
from _kit.explain import Explanation, Kind, explain
from _kit.progress import Outcome, Result
from _kit.timeouts import pytest_runtest_call, pytest_timeout_cancel_timer, pytest_timeout_set_timer  # noqa: F401

SHOWN_FAILURES = 5


@dataclass
class CheckRun:
    """How one check function ended in this run."""

    exercise: Exercise
    name: str
    title: str
    result: Result
    explanation: Explanation | None = None


@dataclass
class Run:
    """What this pytest run did, for the closing summary."""

    quiet: bool
    state: progress.State = field(default_factory=progress.State)  # as it was when the run started (hints)
    fingerprints: dict[str, str] = field(default_factory=dict)
    selected: dict[str, set[str]] = field(default_factory=dict)  # exercise id -> check functions collected
    checks: dict[tuple[str, str], CheckRun] = field(default_factory=dict)
    running: str | None = None
    stopped: bool = False
    interrupted: bool = False
    failures: list[str] = field(default_factory=list)  # the closing lines: what failed, then the progress
    lines: list[str] = field(default_factory=list)


RUN = pytest.StashKey[Run]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """--kit-quiet: record progress but print no summary; --kit-notebook: the code is a notebook's."""
    parser.addoption("--kit-quiet", action="store_true", help="cnn-kit: keep progress, print no summary")
    parser.addoption("--kit-notebook", action="store_true", help="cnn-kit: the checks run on a notebook's code")


def pytest_configure(config: pytest.Config) -> None:
    """Start the run's record. Tiny tensors compute faster on one thread, above all on a busy machine."""
    config.stash[RUN] = Run(quiet=config.getoption("kit_quiet"))
    if "OMP_NUM_THREADS" not in os.environ:
        import torch

        torch.set_num_threads(1)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Fingerprint the code now, so that results are kept for the code they ran on."""
    run = session.config.stash[RUN]
    run.state = progress.load()
    notebook = session.config.getoption("kit_notebook")
    run.fingerprints = {e.id: ((notebook and workspace.notebook_source(e)) or workspace.resolve(e)).fingerprint
                        for e in catalog.exercises()}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the exercises in the registry's order (files sort by name otherwise), so -x and --sw stop at the first."""
    order = {e.test_file.name: i for i, e in enumerate(catalog.exercises())}
    items.sort(key=lambda item: order.get(item.path.name, len(order)))


def pytest_collection_finish(session: pytest.Session) -> None:
    """Remember which checks this run selected (after -k, --lf, --sw and the files given)."""
    run = session.config.stash[RUN]
    for item in session.items:
        exercise = catalog.by_test_file(item.path)
        if exercise is not None:
            run.selected.setdefault(exercise.id, set()).add(_function(item))


def _function(item: pytest.Item) -> str:
    return getattr(item, "originalname", None) or item.name.split("[")[0]


def _title(item: pytest.Item) -> str:
    doc = getattr(getattr(item, "obj", None), "__doc__", None)
    return (doc or item.name).strip().splitlines()[0]


def pytest_runtest_protocol(item: pytest.Item) -> None:
    """Note the check that runs now (to say where Ctrl-C stopped the run)."""
    item.config.stash[RUN].running = f"{item.path.name}::{item.name}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, pytest.TestReport]:
    """Record the check's outcome and replace a traceback by an explanation and the check's hint."""
    report: pytest.TestReport = yield
    exercise = catalog.by_test_file(item.path)
    if exercise is None or report.skipped or (report.when != "call" and report.passed):
        return report
    run = item.config.stash[RUN]
    name = _function(item)
    key = (exercise.id, name)
    if report.passed:
        run.checks.setdefault(key, CheckRun(exercise, name, _title(item), Result(Outcome.PASSED)))
        return report
    explanation = explain(call.excinfo.value, str(item.path)) if call.excinfo is not None else None
    outcome = Outcome.NOT_STARTED if explanation and explanation.kind is Kind.NOT_STARTED else Outcome.FAILED
    first_line = explanation.text.splitlines()[0] if explanation else "failed"
    previous = run.checks.get(key)
    if previous is None or previous.result.outcome is Outcome.PASSED:
        run.checks[key] = CheckRun(exercise, name, _title(item), Result(outcome, first_line), explanation)
    if explanation is not None:
        tip = "\n".join(hints.lines(run.state, exercise, name))
        report.longrepr = f"{_title(item)}\n{explanation.text}" + (f"\n{tip}" if tip else "")
    return report


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Keep this run's results and prepare the closing lines."""
    run = session.config.stash[RUN]
    run.stopped = bool(session.shouldstop or session.shouldfail)  # -x, --maxfail, --sw
    run.interrupted = exitstatus == pytest.ExitCode.INTERRUPTED and not run.stopped  # Ctrl-C
    state = progress.load()
    for (exercise_id, name), check in run.checks.items():
        state.record(check.exercise, run.fingerprints[exercise_id], name, check.result)
    if not run.quiet and (run.checks or run.selected):
        run.failures, explained = _failures(run, state)
        ran = [e for e in catalog.exercises() if e.id in run.selected]
        run.lines = summary.progress_block(state, _coverage(run), focus=ran, explained=explained)
    progress.save(state)


def _failures(run: Run, state: progress.State) -> tuple[list[str], set[tuple[str, str]]]:
    """This run's failing checks (not the ones not started yet), explained, with their hints; and
    which checks were explained."""
    failed = [c for c in run.checks.values() if c.result.outcome is Outcome.FAILED and c.explanation is not None]
    lines: list[str] = []
    seen: set[str] = set()
    explained: set[tuple[str, str]] = set()
    shown = 0
    for check in failed:
        assert check.explanation is not None
        text = check.explanation.text
        if text in seen:
            continue
        seen.add(text)
        if shown == SHOWN_FAILURES:
            left = len(failed) - shown
            lines.append(f"… and {left} more failing check{'s' if left > 1 else ''}: fix these first, or add -x to "
                         "stop at the first failure")
            break
        shown += 1
        explained.add((check.exercise.id, check.name))
        lines.append(f"✘ {check.exercise.module} · {check.name}: {check.title}")
        lines += [f"    {line}" for line in text.splitlines()]
        lines += [f"    {line}" for line in hints.lines(state, check.exercise, check.name)]
        hints.mark_shown(state, check.exercise, check.name)
    return lines, explained


def _coverage(run: Run) -> list[str]:
    """What this run covered, when it was not every check of every exercise."""
    selected = sum(len(names) for names in run.selected.values())
    finished = len(run.checks)
    everything = sum(len(e.checks) for e in catalog.exercises())
    if run.interrupted:
        return [f"Interrupted (Ctrl-C) during {run.running}: {finished} of the {selected} selected checks finished "
                "and are kept; the table shows the rest as it stood."]
    if run.stopped or finished < selected:
        return [f"Stopped early (-x, --maxfail or --sw): {finished} of the {selected} selected checks ran; "
                "the table shows the rest as it stood."]
    if selected < everything:
        files = [e.module for e in catalog.exercises() if e.id in run.selected]
        return [f"This run checked {selected} of the kit's {everything} checks ({', '.join(files) or 'none'}); "
                "the other results come from earlier runs on the same code."]
    return []


def pytest_unconfigure(config: pytest.Config) -> None:
    """Print the closing lines last of all, then freeze what is left, so that the interpreter's
    exit does not garbage-collect torch's objects one by one (about 1 s of every run)."""
    run = config.stash.get(RUN, None)
    if run is not None and run.lines:
        writer = config.get_terminal_writer()
        for title, lines in (("what to fix", run.failures), ("your progress", run.lines)):
            if lines:
                writer.sep("=", title)
                for line in lines:
                    writer.line(line)
    gc.freeze()
