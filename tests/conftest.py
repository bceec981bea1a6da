"""Shared fixtures for the kit's own tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader.isolation import fallback, fork_server, sandbox
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
    """The uid fallback, forced, as where bubblewrap cannot create namespaces. It needs root, and a
    Python that other users can read (tests/test_gradescope.py runs it with the system's)."""
    if not sandbox.uid_works():
        pytest.skip("the uid fallback needs root (to run workers as another uid) and setpriv")
    try:
        fallback.prepare()
    except sandbox.SandboxUnavailable as exc:
        pytest.skip(str(exc))
    return sandbox.Isolation.UID


@pytest.fixture(scope="module", autouse=True)
def end_fork_servers():
    """Each test module ends the sandboxes it graded in-process, so that the next module sees
    only the sandbox processes it started itself (the hostile tests count them)."""
    yield
    fork_server.close_all()


HOSTILE = Path(__file__).parent / "hostile"


@pytest.fixture(scope="session")
def hostile_class(tmp_path_factory) -> Path:
    """A class of lenet.py submissions: one per attack in tests/hostile/ (each after the untouched
    stub: it implements nothing), one that ships its own conftest.py, sitecustomize.py and
    pytest.ini, and a perfect one."""
    klass = tmp_path_factory.mktemp("hostile")
    stub = (ROOT / "exercises" / "lenet.py").read_text(encoding="utf-8")
    for attack in HOSTILE.glob("*.py"):
        if not attack.name.startswith("shipped_"):
            (klass / attack.stem).mkdir()
            (klass / attack.stem / "lenet.py").write_text(stub + "\n\n" + attack.read_text(encoding="utf-8"))
    shipped = klass / "shipped_configuration"
    shipped.mkdir()
    shutil.copy(ROOT / "exercises" / "lenet.py", shipped / "lenet.py")
    for name in ("conftest.py", "sitecustomize.py", "pytest.ini"):
        shutil.copy(HOSTILE / f"shipped_{name}", shipped / name)
        shutil.copy(HOSTILE / f"shipped_{name}", shipped / f"exercises_{name}")
    (klass / "perfect").mkdir()
    shutil.copy(ROOT / "solutions" / "lenet.py", klass / "perfect" / "lenet.py")
    return klass
