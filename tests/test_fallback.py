"""The uid fallback's walls, each on its own: the kit locked from other users, Landlock around the
zygote, and what a uid left in the shared temporary folders swept. (tests/test_hostile.py grades
the hostile submissions through it, and tests/test_gradescope.py through the Gradescope bundle.)"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from grader.isolation import fallback, landlock, uids
from grader.paths import ROOT, SOLUTIONS

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the uid fallback needs root")

KIT_FILES = {  # path in a kit -> whether a worker's uid may read it once the kit is locked
    "grader/__init__.py": True,
    "grader/inside/worker.py": True,
    "exercises/_kit/datasets.py": True,
    "data/MNIST/raw/t10k-labels-idx1-ubyte": True,
    "grader/exercises/lenet/test_hidden.py": False,
    "grader/grading/reference.py": False,
    "grader/heldout/heldout-labels-idx1-ubyte": False,
    "solutions/lenet.py": False,
    "exercises/lenet.py": False,
    ".git/config": False,
    "README.md": False,
}


@pytest.fixture
def kit():
    """A small kit with every file readable by all, in a folder others may enter."""
    root = Path(tempfile.mkdtemp(prefix="cnnkit-lock-"))
    root.chmod(0o755)
    for name in KIT_FILES:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x")
        (root / name).chmod(0o644)
    for folder in root.rglob("*"):
        if folder.is_dir():
            folder.chmod(0o755)
    yield root
    subprocess.run(["rm", "-rf", str(root)], check=True)


def test_the_kit_is_locked_but_for_what_workers_need(kit):
    before = fallback.what_others_see([kit / name for name in KIT_FILES])
    assert all(before.values())
    fallback.lock_kit(kit)
    after = fallback.what_others_see([kit / name for name in KIT_FILES])
    assert {name: after[str(kit / name)] for name in KIT_FILES} == KIT_FILES
    assert sorted(p.name for p in kit.iterdir()) == sorted({n.split("/")[0] for n in KIT_FILES}), "nothing removed"


def test_preparing_proves_the_real_kit_is_locked(uid_fallback):
    seen = fallback.what_others_see([SOLUTIONS / "lenet.py", ROOT / "grader" / "inside" / "worker.py"])
    assert seen == {str(SOLUTIONS / "lenet.py"): False, str(ROOT / "grader" / "inside" / "worker.py"): True}


LOOK = """
import os, socket, sys
for path in sys.argv[2:]:
    try:
        os.listdir(path) if os.path.isdir(path) else open(path).close()
        print("read", path)
    except OSError:
        print("denied", path)
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
    print("tcp open")
except OSError as exc:
    print("tcp", type(exc).__name__)
"""


@pytest.fixture
def outside():
    """A world-readable folder and file outside everything the workers may read (another clone of
    the kit, say)."""
    folder = Path(f"/run/cnnkit-outside-{os.getpid()}")
    folder.mkdir(mode=0o755)
    (folder / "lenet.py").write_text("a solution")
    (folder / "lenet.py").chmod(0o644)
    yield folder
    subprocess.run(["rm", "-rf", str(folder)], check=True)


@pytest.mark.skipif(landlock.abi() < 4, reason="needs Landlock with TCP rules (ABI 4, Linux 6.7)")
def test_landlock_confines_the_zygote_even_as_root(outside):
    """Run as root, so only Landlock can say no: files elsewhere on the machine are out of reach (and
    so is this kit's solutions/, unless the kit lies in the temporary folder, which workers may
    use: then the kit's lock alone guards it), the trust boundary is not, and no TCP connection opens."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    paths = [outside, outside / "lenet.py", ROOT / "grader" / "inside" / "worker.py"]
    expected = ["denied", "denied", "read"]
    if not any(Path(t) in ROOT.parents for t in (tempfile.gettempdir(), "/tmp", "/var/tmp")):
        paths.append(SOLUTIONS / "lenet.py")
        expected.append("denied")
    command = fallback.zygote_command([sys.executable, "-c", LOOK, str(port), *map(str, paths)])
    done = subprocess.run(command, capture_output=True, text=True, env={"PYTHONPATH": str(ROOT)}, timeout=60)
    listener.close()
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"{e} {p}" for e, p in zip(expected, paths)] + ["tcp PermissionError"]


def test_what_a_uid_left_in_shared_temporary_folders_is_swept():
    uid = uids.BASE_UID + uids.COUNT - 1
    left = Path(tempfile.gettempdir()) / f"cnnkit-left-{os.getpid()}"
    mine = Path(tempfile.gettempdir()) / f"cnnkit-mine-{os.getpid()}"
    (left / "deep").mkdir(parents=True)
    (left / "deep" / "answers.txt").write_text("42")
    mine.write_text("the grader's")
    for path in (left, left / "deep", left / "deep" / "answers.txt"):
        os.chown(path, uid, uid)
    (left / "deep").chmod(0)
    try:
        fallback.sweep(uid)
        assert not left.exists() and mine.exists()
    finally:
        mine.unlink()
