"""Run a visible check from a notebook cell. Part of the kit: no need to edit.

In a notebook your code lives in the notebook itself, not in exercises/<name>.py. A check
cell calls, for example::

    from _kit.notebook import run_visible; run_visible("lenet", "test_net_parameters", globals())

which runs the check test_net_parameters of test_lenet.py (next to the notebook) with
student("lenet") standing for the notebook's own namespace. A failing check raises an
AssertionError that says what went wrong, so the cell shows it (and nbgrader marks it failed).
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from _kit.checks import EXERCISES_DIR, CheckFailed, StudentModuleError, use_namespace

NOT_STARTED = "not started yet"


class NamespaceModule:
    """A namespace seen as a module: reading or setting an attribute reads or sets the namespace
    itself, so a patch made by a check (monkeypatch) is seen by the notebook's functions."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        self.__dict__ = namespace


def explain(exc: BaseException) -> str:
    """One line for a student: the check's own message, or what the code raised."""
    if isinstance(exc, (CheckFailed, StudentModuleError)):
        return str(exc)
    if isinstance(exc, NotImplementedError):
        return f"{NOT_STARTED}: your code still raises NotImplementedError"
    return f"your code raised {type(exc).__name__}: {exc}"


class _Only:
    """Keep the items of one test function and remember how each ended."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.failures: list[tuple[str, str]] = []
        self.ran = 0

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        keep = [i for i in items if getattr(i, "originalname", i.name) == self.name or i.name == self.name]
        config.hook.pytest_deselected(items=[i for i in items if i not in keep])
        items[:] = keep

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]):
        outcome = yield
        report = outcome.get_result()
        if report.when == "call":
            self.ran += 1
        if report.failed and call.excinfo is not None:
            doc = (getattr(getattr(item, "obj", None), "__doc__", None) or item.name).strip().splitlines()[0]
            self.failures.append((doc, explain(call.excinfo.value)))


def run_visible(stem: str, test: str, namespace: dict[str, Any]) -> None:
    """Run the visible check `test` of test_<stem>.py against `namespace` (pass globals())."""
    path = EXERCISES_DIR / f"test_{stem}.py"
    if not path.is_file():
        raise AssertionError(f"the checks file {path.name} is missing next to this notebook: restore it")
    use_namespace(stem, NamespaceModule(namespace))
    only = _Only(test)
    args = [str(path), "--rootdir", str(path.parent), "-c", os.devnull, "-q", "--no-header",
            "--tb=no", "--capture=sys", "-p", "no:cacheprovider", "-p", "no:faulthandler",
            "-p", "no:unraisableexception", "-p", "no:threadexception"]
    sink = io.StringIO()
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            code = pytest.main(args, plugins=[only])
    finally:
        use_namespace(stem, None)
        _forget(path)
    if only.failures:
        doc, message = only.failures[0]
        raise AssertionError(f"{doc}\n  {message}") from None
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) or only.ran == 0:
        raise AssertionError(f"the check {test} of {path.name} could not run (pytest exit {int(code)}):\n"
                             f"{sink.getvalue()[-1500:]}") from None


def _forget(path: Path) -> None:
    """Drop the checks module pytest imported, so that a later run (or another suite of the same
    file name) imports its own copy."""
    files = {str(path), str(path.resolve())}
    for name, module in list(sys.modules.items()):
        if getattr(module, "__file__", None) in files:
            del sys.modules[name]
