"""Run visible checks inside this process, quietly, and get back how each ended.

Part of the kit: no need to edit. The hint command and the notebooks' check cells use it: the
checks run through pytest with the kit's plugin (so progress is recorded as usual), and the
caller decides what to print.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from _kit.catalog import EXERCISES_DIR, Exercise
from _kit.checks import use_namespace
from _kit.plugin import RUN, CheckRun


class NamespaceModule:
    """A namespace seen as a module: reading or setting an attribute reads or sets the namespace
    itself, so a patch made by a check (monkeypatch) is seen by the notebook's functions."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        self.__dict__ = namespace


class _Only:
    """Keep the chosen check functions (all when none are named), and the run's record when it ends."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = set(names)
        self.checks: dict[tuple[str, str], CheckRun] = {}

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        if not self.names:
            return
        keep = [i for i in items if (getattr(i, "originalname", None) or i.name) in self.names or i.name in self.names]
        config.hook.pytest_deselected(items=[i for i in items if i not in keep])
        items[:] = keep

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.checks = session.config.stash[RUN].checks


def run_checks(stem: str, names: tuple[str, ...] = (), namespace: dict[str, Any] | None = None) -> list[CheckRun]:
    """Run the checks `names` (all when empty) of test_<stem>.py, on `namespace` (a notebook's) or on
    the student's files; return how each ended, in the order of the file."""
    path = Path(EXERCISES_DIR) / f"test_{stem}.py"
    if not path.is_file():
        raise AssertionError(f"the checks file {path.name} is missing from {path.parent}: restore it")
    ini = path.parent / "pytest.ini"
    args = [str(path), "--rootdir", str(path.parent), "-c", str(ini) if ini.is_file() else os.devnull, "-q",
            "--no-header", "--capture=sys", "--kit-quiet", "-p", "_kit.plugin", "-p", "no:cacheprovider",
            "-p", "no:faulthandler", "-p", "no:unraisableexception", "-p", "no:threadexception"]
    if namespace is not None:
        args.append("--kit-notebook")
        use_namespace(stem, NamespaceModule(namespace))
    only = _Only(names)
    sink = io.StringIO()
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            code = pytest.main(args, plugins=[only])
    finally:
        if namespace is not None:
            use_namespace(stem, None)
        _forget(path, stem)
    if not only.checks:
        raise AssertionError(f"the checks {', '.join(names) or 'of ' + path.name} could not run (pytest exit "
                             f"{int(code)}):\n{sink.getvalue()[-1500:]}") from None
    return sorted(only.checks.values(), key=lambda c: _position(c.exercise, c.name))


def _position(exercise: Exercise, name: str) -> int:
    order = [c.name for c in exercise.checks]
    return order.index(name) if name in order else len(order)


def _forget(path: Path, stem: str) -> None:
    """Drop the modules this run imported (the checks, the student's code), so that the next run
    imports fresh copies."""
    files = {str(path), str(path.resolve())}
    for name, module in list(sys.modules.items()):
        if getattr(module, "__file__", None) in files or name == f"_student_{stem}":
            del sys.modules[name]
