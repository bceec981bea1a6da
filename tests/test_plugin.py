"""The grading plugin, tested the way pytest plugins are: with pytester."""

from __future__ import annotations

import pytest

from grader.grading import checks, plugin  # noqa: F401 - checks imports torch before pytester snapshots sys.modules
from grader.grading.results import Outcome


class Capture:
    """Keeps the run's stash for inspection."""

    def pytest_sessionfinish(self, session):
        self.records = session.config.stash[plugin.RECORDS]
        self.maximum = session.config.stash[plugin.MAX_SCORE]


def run(pytester: pytest.Pytester, source: str, *args: str) -> Capture:
    """Run `source` as the hidden suite of an exercise called lenet (its folder's name)."""
    pytester.mkpydir("lenet")
    pytester.makepyfile(**{"lenet/test_hidden": source})
    capture = Capture()
    pytester.inline_run("-p", "grader.grading.plugin", *args, plugins=[capture])
    return capture


SUITE = """
    import pytest
    from grader.grading.checks import Mismatch

    @pytest.mark.points(2)
    def test_ok():
        pass

    @pytest.mark.points(3)
    def test_wrong():
        raise Mismatch("conv1 gave (1, 6, 32, 32), expected (1, 6, 28, 28)")

    @pytest.mark.points(1)
    @pytest.mark.parametrize("n", [1, 7])
    def test_cases(n):
        assert n == 1
"""


def test_records_points_exercise_and_outcome(pytester):
    capture = run(pytester, SUITE)
    by_name = {r.name: r for r in capture.records}
    assert capture.maximum == 7
    assert by_name["test_ok"].score == 2 and by_name["test_ok"].outcome is Outcome.PASSED
    assert by_name["test_ok"].exercise == "lenet"
    assert by_name["test_wrong"].score == 0 and by_name["test_wrong"].outcome is Outcome.FAILED
    assert by_name["test_wrong"].output == "conv1 gave (1, 6, 32, 32), expected (1, 6, 28, 28)"
    assert by_name["test_cases[1]"].score == 1 and by_name["test_cases[7]"].score == 0


def test_maximum_comes_from_the_collected_suite_not_from_what_ran(pytester):
    capture = run(pytester, SUITE, "-x")  # stops after test_wrong: test_cases never runs
    assert capture.maximum == 7
    assert [r.name for r in capture.records] == ["test_ok", "test_wrong"]


def test_setup_errors_and_student_errors_are_recorded(pytester):
    capture = run(pytester, """
        import pytest
        from grader.isolation.remote import StudentError, WorkerFailed

        @pytest.fixture
        def broken():
            raise RuntimeError("fixture broke")

        @pytest.mark.points(1)
        def test_setup(broken):
            pass

        @pytest.mark.points(1)
        def test_not_started():
            raise StudentError({"type": "NotImplementedError", "message": "", "not_started": True})

        @pytest.mark.points(1)
        def test_raised():
            raise StudentError({"type": "RuntimeError", "message": "shapes", "where": "lenet.py:3 in forward"})

        @pytest.mark.points(1)
        def test_timeout():
            raise WorkerFailed("a check took longer than 5 s", timed_out=True)
    """)
    by_name = {r.name: r for r in capture.records}
    assert by_name["test_setup"].outcome is Outcome.FAILED and by_name["test_setup"].score == 0
    assert by_name["test_not_started"].outcome is Outcome.NOT_STARTED
    assert by_name["test_not_started"].output == "not started yet"
    assert by_name["test_raised"].output == "raised RuntimeError: shapes (lenet.py:3 in forward)"
    assert by_name["test_timeout"].outcome is Outcome.TIMEOUT
    assert len(capture.records) == 4


def test_message_is_capped(pytester):
    capture = run(pytester, """
        import pytest
        from grader.grading.checks import Mismatch

        @pytest.mark.points(1)
        def test_long():
            raise Mismatch("x" * 10000)
    """)
    assert len(capture.records[0].output) == plugin.MESSAGE_LIMIT
