"""The grading pytest plugin: points per test, exercise grouping, typed result records.

Load it with `-p grader.grading.plugin`. A hidden test carries `@pytest.mark.points(n)`; its
exercise is its folder's name (grader/exercises/<exercise>/). After the run, the records are in
`config.stash[RECORDS]`, and the suite's maximum in `config.stash[MAX_SCORE]`, computed
from what was collected from the trusted suite, never from what happened to run.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from typing import Any

import pytest

from grader.grading.results import Outcome, TestRecord
from grader.grading.secret import new_secret

RECORDS = pytest.StashKey[list[TestRecord]]()
MAX_SCORE = pytest.StashKey[float]()
SECRET = pytest.StashKey[bytes]()  # the run's secret (grader.grading.secret); a fresh one if none is given
LABELS = pytest.StashKey[list[int]]()  # the labels the sandbox's digits carry (grader.grading.relabel)
MESSAGE_LIMIT = 500
_STARTED = pytest.StashKey[float]()
_ADVICE = pytest.StashKey[list[str]]()
_DONE = pytest.StashKey[bool]()


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker and the run's stash."""
    config.addinivalue_line("markers", "points(n): points this hidden test is worth")
    config.addinivalue_line("markers", "advisory: a habit only the worker can see: feedback (advise), no points")
    config.stash[RECORDS] = []
    config.stash[MAX_SCORE] = 0.0


def secret_of(config: pytest.Config) -> bytes:
    """The run's secret, drawn on first use if the caller gave none."""
    if SECRET not in config.stash:
        config.stash[SECRET] = new_secret()
    return config.stash[SECRET]


def labels_of(config: pytest.Config) -> list[int]:
    """labels[d] is the label the submission's code sees on digit d: the run's relabelling, or the digits
    themselves where the code reads the shipped data (a notebook kernel)."""
    return config.stash.get(LABELS, list(range(10)))


def advise(item: pytest.Item, message: str) -> None:
    """Attach feedback worth no points to a test's record (a habit the grader cannot verify)."""
    item.stash.setdefault(_ADVICE, []).append(message[:MESSAGE_LIMIT])


def points_of(item: pytest.Item) -> float:
    """The points a test is worth (0 when unmarked)."""
    marker = item.get_closest_marker("points")
    return float(marker.args[0]) if marker and marker.args else 0.0


def exercise_of(item: pytest.Item) -> str:
    """The exercise a test belongs to: the name of its folder, grader/exercises/<exercise>/."""
    return item.path.parent.name


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The maximum score is what the collected suite is worth."""
    config.stash[MAX_SCORE] = sum(points_of(item) for item in items)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Start the test's clock."""
    item.stash[_STARTED] = time.monotonic()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    """Record one typed result per test, from its first failing phase or its call."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if _recorded(item) or not (report.when == "call" or report.failed or report.skipped):
        return
    points = points_of(item)
    advice: list[str] = item.stash.get(_ADVICE, [])
    if report.skipped and call.excinfo is not None:
        result, message = Outcome.SKIPPED, str(call.excinfo.value)
    else:
        result, message = classify(call.excinfo)
    record = TestRecord(
        name=item.name,
        exercise=exercise_of(item),
        max_score=points,
        score=points if result is Outcome.PASSED else 0.0,
        outcome=result,
        output=message[:MESSAGE_LIMIT],
        duration=round(time.monotonic() - item.stash.get(_STARTED, time.monotonic()), 3),
        advice=list(advice),
    )
    item.config.stash[RECORDS].append(record)
    item.stash[_DONE] = True


def _recorded(item: pytest.Item) -> bool:
    return item.stash.get(_DONE, False)


def classify(excinfo: pytest.ExceptionInfo[BaseException] | None) -> tuple[Outcome, str]:
    """Map a test's exception to an outcome and a short message for the gradebook."""
    from grader.grading.checks import explain  # the trusted checks' vocabulary

    if excinfo is None:
        return Outcome.PASSED, ""
    return explain(excinfo.value)
