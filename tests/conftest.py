"""Shared fixtures for the kit's own tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader.isolation import fork_server, sandbox
from grader.paths import ROOT

pytest_plugins = ["pytester"]


@pytest.fixture(scope="session")
def isolation() -> sandbox.Isolation:
    """The sandbox the tests grade with: bubblewrap, which the README's setup installs."""
    if not sandbox.bwrap_works():
        pytest.skip("bubblewrap is not usable here; run `make setup` as root to install it")
    return sandbox.Isolation.BWRAP


@pytest.fixture(scope="session")
def uid_fallback() -> sandbox.Isolation:
    """The uid fallback, forced, as where bubblewrap cannot create namespaces: it needs root."""
    if not sandbox.uid_works():
        pytest.skip("the uid fallback needs root (to run workers as another uid) and setpriv")
    return sandbox.Isolation.UID


@pytest.fixture(scope="module", autouse=True)
def end_fork_servers():
    """Each test module ends the sandboxes it graded in-process, so that the next module sees
    only the sandbox processes it started itself (the hostile tests count them)."""
    yield
    fork_server.close_all()


@pytest.fixture
def kit_copy(tmp_path: Path) -> Path:
    """A throwaway copy of exercises/ (and data/) for runs that write into it."""
    target = tmp_path / "kit"
    shutil.copytree(ROOT / "exercises", target / "exercises", ignore=shutil.ignore_patterns("__pycache__"))
    (target / "data").symlink_to(ROOT / "data")
    return target
