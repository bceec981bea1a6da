"""Run one hidden test from a notebook cell, for nbgrader's own autograde path.

An exported notebook's autograder cells end with::

    ### BEGIN HIDDEN TESTS
    from grader.notebook import run_hidden; run_hidden("lenet", "test_net_any_batch_size[7]", globals())
    ### END HIDDEN TESTS

run_hidden collects that one item of grader/hidden/test_<exercise>.py and runs it with a
`submission` fixture whose probes run IN THIS PROCESS against the notebook's namespace. That is
nbgrader's usual model (the kernel runs student code and tests together, unsandboxed); the
sandboxed path for notebooks is `grader score --nbgrader`. A failing test raises an
AssertionError with the gradebook's message, so nbgrader scores the cell 0.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import torch

from grader import plugin, protocol, registry
from grader.client import StudentError
from grader.paths import HIDDEN
from grader.probes import ProbeError, lookup
from grader.results import Outcome, TestRecord
from grader.runner import WorkerPlugin
from grader.worker import Submission

# pytest plugins an in-process run does without: they cost seconds per run (a full gc.collect
# at exit) or touch process-wide state a notebook kernel owns (faulthandler on its stderr).
QUIET_PLUGINS = ("-p", "no:faulthandler", "-p", "no:unraisableexception", "-p", "no:threadexception")


class NamespaceModule:
    """A namespace seen as a module: attributes read and write the namespace itself, so a probe
    that patches a module-level name (from_scratch's guard) is seen by the notebook's functions."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        self.__dict__ = namespace


class LocalSubmission:
    """The worker's side of the channel, in process: `call` runs a probe on the namespaces.

    Observations go through the channel's encoding and back, so the hidden tests see exactly
    the plain data and fresh tensors a sandboxed worker would send (tuples become lists, ...).
    """

    def __init__(self, namespaces: dict[str, dict[str, Any]], folder: Path | None = None, threads: int = 1) -> None:
        self.modules: dict[str, Any] = {stem: NamespaceModule(ns) for stem, ns in namespaces.items()}
        self.files = Submission(Path(folder or Path.cwd()))
        self.threads = threads

    def module(self, stem: str) -> ModuleType | Any:
        """The notebook's namespace for `stem`, else <folder>/<stem>.py as the worker imports it."""
        return self.modules[stem] if stem in self.modules else self.files.module(stem)

    def call(self, probe: str, timeout: float | None = None, seed: int = 0, **args: Any) -> Any:
        """Run a probe as the worker does (same seed, grad mode on); raise StudentError on failure."""
        del timeout  # the cell's own timeout (nbgrader's Execute.timeout) bounds the run
        threads = torch.get_num_threads()
        try:
            fn = lookup(probe)
            torch.set_num_threads(self.threads)  # the worker's thread count: the same floating-point sums
            torch.manual_seed(int(seed))
            torch.set_grad_enabled(True)
            reply = {"ok": True, "value": fn(self, **args)}
            return protocol.read_message(io.BytesIO(protocol.encode(reply)))["value"]
        except protocol.ProtocolError as exc:
            raise StudentError({"type": "ProtocolError", "message": str(exc)}) from None
        except Exception as exc:  # noqa: BLE001 - every student failure becomes an observation
            raise StudentError(describe(exc)) from None
        finally:
            torch.set_num_threads(threads)


def describe(exc: BaseException) -> dict[str, Any]:
    """Plain-data account of a failure, as grader.worker.describe gives it."""
    return {
        "type": type(exc).__name__,
        "message": str(exc)[:600],
        "where": "",
        "import_error": False,
        "not_started": isinstance(exc, NotImplementedError),
        "probe_error": isinstance(exc, ProbeError),
    }


class _Only:
    """Keep the one collected item called `name`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.found = False

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        keep = [i for i in items if i.name == self.name]
        self.found = bool(keep)
        config.hook.pytest_deselected(items=[i for i in items if i.name != self.name])
        items[:] = keep


def run_hidden_test(exercise: str, test: str, submission: Any, hidden: Path = HIDDEN) -> TestRecord:
    """Run the hidden item `test` (e.g. "test_net_any_batch_size[7]") of test_<exercise>.py."""
    path = hidden / f"test_{exercise}.py"
    if not path.is_file():
        raise LookupError(f"there is no hidden suite {path}")
    records: list[TestRecord] = []

    class Collect:
        @pytest.hookimpl(trylast=True)
        def pytest_sessionfinish(self, session: pytest.Session) -> None:
            records.extend(session.config.stash[plugin.RECORDS])

    only = _Only(test)
    args = [str(path), "-c", str(hidden / "pytest.ini"), "--rootdir", str(hidden), "-p", "grader.plugin",
            "-q", "--no-header", "--tb=no", "--capture=sys", "-p", "no:cacheprovider", *QUIET_PLUGINS]
    sink = io.StringIO()
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            code = pytest.main(args, plugins=[WorkerPlugin(submission), only, Collect()])
    finally:
        forget_modules(hidden)
    if not only.found:
        raise LookupError(f"the hidden suite of {exercise} has no test {test!r}")
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) or not records:
        raise RuntimeError(f"the hidden test {test} could not run (pytest exit {int(code)}):\n{sink.getvalue()[-1500:]}")
    return records[0]


def forget_modules(folder: Path) -> None:
    """Drop the modules pytest imported from `folder` (test_<x>, conftest), so that a checks file of
    the same name elsewhere, or the next run, imports its own."""
    folders = {str(folder), str(folder.resolve())}
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if isinstance(file, str) and os.path.dirname(file) in folders:
            del sys.modules[name]


def run_hidden(exercise: str, test: str, namespace: dict[str, Any]) -> None:
    """Run one hidden test against the notebook's namespace (pass globals()); fail like the gradebook."""
    stem = registry.by_id(exercise).stem
    record = run_hidden_test(exercise, test, LocalSubmission({stem: namespace}))
    if record.score < record.max_score or record.outcome is not Outcome.PASSED:
        raise AssertionError(f"{test}: {record.output or record.outcome.value}") from None
