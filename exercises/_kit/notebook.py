"""Run visible checks from a notebook cell, on the notebook's own code. Part of the kit: no need to edit.

The kit's notebooks (exercises/<module>.ipynb) end each task with a cell such as::

    check("lenet", "test_net_parameters", "test_net_output_shape")

which runs those checks of exercises/test_lenet.py with student("lenet") standing for the
notebook's namespace, prints one line per check (with the explanation and hint of a failure),
and records the results in your progress. `progress()` prints the progress of every exercise.
nbgrader notebooks call run_visible instead, which raises when the check fails.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from _kit import hints, progress as progress_store, summary, workspace
from _kit.catalog import EXERCISES_DIR, by_name
from _kit.checks import use_namespace
from _kit.plugin import RUN, CheckRun
from _kit.progress import Outcome

MARKS = {Outcome.PASSED: "✔", Outcome.FAILED: "✘", Outcome.NOT_STARTED: "·"}


class NamespaceModule:
    """A namespace seen as a module: reading or setting an attribute reads or sets the namespace
    itself, so a patch made by a check (monkeypatch) is seen by the notebook's functions."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        self.__dict__ = namespace


class _Only:
    """Keep the chosen check functions, and keep the run's record when it ends."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = set(names)
        self.checks: dict[tuple[str, str], CheckRun] = {}

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        keep = [i for i in items if (getattr(i, "originalname", None) or i.name) in self.names or i.name in self.names]
        config.hook.pytest_deselected(items=[i for i in items if i not in keep])
        items[:] = keep

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.checks = session.config.stash[RUN].checks


def _run(stem: str, names: tuple[str, ...], namespace: dict[str, Any]) -> list[CheckRun]:
    """Run the checks `names` of test_<stem>.py on `namespace`; return how each ended, in file order."""
    path = Path(EXERCISES_DIR) / f"test_{stem}.py"
    if not path.is_file():
        raise AssertionError(f"the checks file {path.name} is missing next to this notebook: restore it")
    ini = path.parent / "pytest.ini"
    use_namespace(stem, NamespaceModule(namespace))
    only = _Only(names)
    args = [str(path), "--rootdir", str(path.parent), "-c", str(ini) if ini.is_file() else os.devnull, "-q",
            "--no-header", "--capture=sys", "--kit-quiet", "--kit-notebook", "-p", "_kit.plugin", "-p", "no:cacheprovider",
            "-p", "no:faulthandler", "-p", "no:unraisableexception", "-p", "no:threadexception"]
    sink = io.StringIO()
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            code = pytest.main(args, plugins=[only])
    finally:
        use_namespace(stem, None)
        _forget(path)
    if not only.checks:
        raise AssertionError(f"the checks {', '.join(names)} of {path.name} could not run (pytest exit "
                             f"{int(code)}):\n{sink.getvalue()[-1500:]}") from None
    order = [c.name for c in by_name(stem).checks] if by_name(stem) else []
    return sorted(only.checks.values(), key=lambda c: order.index(c.name) if c.name in order else len(order))


def _forget(path: Path) -> None:
    """Drop the checks module pytest imported, so that the next run imports a fresh copy."""
    files = {str(path), str(path.resolve())}
    for name, module in list(sys.modules.items()):
        if getattr(module, "__file__", None) in files:
            del sys.modules[name]


def _caller_globals() -> dict[str, Any]:
    frame = inspect.currentframe()
    assert frame is not None and frame.f_back is not None and frame.f_back.f_back is not None
    return frame.f_back.f_back.f_globals


def check(stem: str, *names: str) -> None:
    """Run the visible checks `names` of exercise `stem` on this notebook's code and print how each ended."""
    checks = _run(stem, names, _caller_globals())
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
    for run in _run(stem, (test,), namespace):
        if run.result.outcome is not Outcome.PASSED:
            text = run.explanation.text if run.explanation else run.result.message
            raise AssertionError(f"{run.title}\n  {text}") from None
