"""The one way to run (or collect) the hidden suites: grader/exercises/<id>/test_hidden.py.

Every path that grades goes through here: the engine (one sandboxed submission), nbgrader's
in-kernel cells, the nbgrader export (which collects the cases) and the kit's contract tests.
The suite's own configuration (grader/exercises/pytest.ini) is always used; nothing of a
submission's configuration is ever read.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from grader.grading import plugin
from grader.grading.results import TestRecord
from grader.paths import SUITES

# pytest plugins a grading run does without: they cost time at exit (a full gc.collect) or touch
# process-wide state that a notebook kernel owns (faulthandler on its stderr).
QUIET_PLUGINS = ("-p", "no:cacheprovider", "-p", "no:faulthandler", "-p", "no:unraisableexception",
                 "-p", "no:threadexception")


class SuiteError(RuntimeError):
    """The hidden suite itself could not run or be collected (a fault of the kit, not of a student)."""


@dataclass(frozen=True)
class Item:
    """One collected hidden test: its exercise, pytest name, function name and points (none for an
    advisory test, which only gives feedback)."""

    exercise: str
    name: str
    function: str
    points: float
    advisory: bool = False


@dataclass(frozen=True)
class SuiteRun:
    """What one run of the suite recorded, and what the collected suite is worth."""

    records: list[TestRecord]
    max_score: float


def suite_file(exercise: str, suites: Path = SUITES) -> Path:
    """The hidden suite of one exercise."""
    return suites / exercise / "test_hidden.py"


class _Submission:
    """Gives the hidden tests their `submission` fixture."""

    def __init__(self, submission: Any) -> None:
        self.value = submission

    @pytest.fixture
    def submission(self) -> Any:
        """The student's code, behind the narrow channel."""
        return self.value


class _Secret:
    """Hands the run's secret (the suite's `rng` fixture) and digit labels (its `labels` fixture) to the suite."""

    def __init__(self, secret: bytes | None, labels: list[int] | None) -> None:
        self.secret = secret
        self.labels = labels

    def pytest_configure(self, config: pytest.Config) -> None:
        if self.secret is not None:
            config.stash[plugin.SECRET] = self.secret
        if self.labels is not None:
            config.stash[plugin.LABELS] = self.labels


class _Select:
    """Keep only the items whose name is in `names` (all when None); remember what was collected."""

    def __init__(self, names: set[str] | None) -> None:
        self.names = names
        self.items: list[Item] = []

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        if self.names is not None:
            kept = [i for i in items if i.name in self.names]
            config.hook.pytest_deselected(items=[i for i in items if i.name not in self.names])
            items[:] = kept
        self.items = [Item(plugin.exercise_of(i), i.name, getattr(i, "originalname", i.name), plugin.points_of(i),
                           i.get_closest_marker("advisory") is not None) for i in items]


class _Collect:
    def __init__(self) -> None:
        self.run = SuiteRun([], 0.0)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        records: list[TestRecord] = session.config.stash[plugin.RECORDS]
        self.run = SuiteRun(list(records), session.config.stash[plugin.MAX_SCORE])


def _main(targets: list[Path], extra: list[str], plugins: list[Any], suites: Path) -> tuple[int, str]:
    args = [*map(str, targets), "-c", str(suites / "pytest.ini"), "--rootdir", str(suites), "-p",
            "grader.grading.plugin",
            "-q", "--no-header", "--tb=no", "--capture=sys", *QUIET_PLUGINS, *extra]
    sink = io.StringIO()
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            code = pytest.main(args, plugins=plugins)
    finally:
        forget_modules(suites)
    return int(code), sink.getvalue()


def run(submission: Any, exercises: tuple[str, ...] = (), keyword: str = "", only: set[str] | None = None,
        secret: bytes | None = None, labels: list[int] | None = None, suites: Path = SUITES) -> SuiteRun:
    """Run the hidden tests of `exercises` (all when empty) against `submission`.

    `keyword` is a pytest -k expression (kit development); `only` keeps the items of these names;
    `secret` is the run's secret (grader.grading.secret), a fresh one when None; `labels` the digits'
    labels in the submission's data (grader.grading.relabel), the digits themselves when None.
    """
    targets = [suite_file(e, suites) for e in exercises] or [suites]
    collect = _Collect()
    plugins = [_Submission(submission), _Secret(secret, labels), _Select(only), collect]
    code, output = _main(targets, ["-k", keyword] if keyword else [], plugins, suites)
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        raise SuiteError(f"the hidden suite itself failed to run (pytest exit {code}):\n{output[-2000:]}")
    return collect.run


def collect(exercises: tuple[str, ...] = (), suites: Path = SUITES) -> list[Item]:
    """The hidden items of `exercises` (all when empty), in run order, without running them."""
    targets = [suite_file(e, suites) for e in exercises] or [suites]
    select = _Select(None)
    code, output = _main(targets, ["--collect-only"], [select], suites)
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        raise SuiteError(f"collecting the hidden suite failed (pytest exit {code}):\n{output[-2000:]}")
    return select.items


def forget_modules(folder: Path) -> None:
    """Drop the modules pytest imported from `folder`, so that the next run imports fresh copies."""
    root = str(folder.resolve())
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if isinstance(file, str) and os.path.abspath(file).startswith(root + os.sep):
            del sys.modules[name]
