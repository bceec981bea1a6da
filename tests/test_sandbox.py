"""What a sandboxed worker can see and do: the trust boundary (grader/inside/ and the student-side
helpers exercises/_kit/), the data, its own folder and /tmp; nothing else of the kit."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path

from grader.inside.limits import Limits, apply_limits
from grader.isolation import sandbox
from grader.isolation.quota import Quota
from grader.paths import DATA, ROOT, SOLUTIONS, SUITES

PROBE = """
import getpass, os, socket, sys
from pathlib import Path
checks = {
    "user": getpass.getuser(),  # the uid has no passwd entry; torch's caches still ask for a name
    "solutions": Path(sys.argv[1]).exists(),
    "hidden": Path(sys.argv[2]).exists(),
    "grader": sorted(p.name for p in Path(sys.argv[3], "grader").iterdir()),
    "exercises": sorted(p.name for p in Path(sys.argv[3], "exercises").iterdir()),
    "data": Path(sys.argv[4], "MNIST/raw").is_dir(),
    "uid": os.getuid(),
    "sub": {p.name: (p.stat().st_uid, p.read_text()) for p in Path("/sub").iterdir()},
}
try:
    socket.create_connection(("127.0.0.1", 22), timeout=1)
    checks["network"] = True
except OSError:
    checks["network"] = False
for target in ("/sub/x", "/tmp/x", sys.argv[3] + "/grader/x", "/usr/x"):
    try:
        Path(target).write_text("x")
        checks[target] = True
    except OSError:
        checks[target] = False
print(checks)
"""


def run_inside(tmp_path: Path) -> dict:
    module = tmp_path / "lenet.py"
    module.write_text("x = 1\n")
    fd = os.open(module, os.O_RDONLY)
    uid = sandbox.sandbox_uid(9)
    cmd = [*sandbox.bwrap_command(uid, Quota(), {"lenet.py": fd}),
           sys.executable, "-c", PROBE, str(SOLUTIONS / "lenet.py"), str(SUITES / "lenet" / "test_hidden.py"),
           str(ROOT),
           str(DATA)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=sandbox.worker_environment(1),
                              pass_fds=(fd,))
    finally:
        os.close(fd)
    assert done.returncode == 0, done.stderr
    return eval(done.stdout)  # our own probe's repr of plain values


def test_worker_sees_only_the_trust_boundary(tmp_path, isolation):
    seen = run_inside(tmp_path)
    assert not seen["solutions"] and not seen["hidden"]
    assert seen["grader"] == ["__init__.py", "inside"] and seen["exercises"] == ["_kit"]
    assert seen["data"]
    assert seen["uid"] == sandbox.sandbox_uid(9)
    assert seen["user"] == "sandbox"
    assert seen["sub"] == {"lenet.py": (seen["uid"], "x = 1\n")}, "a fresh copy of the modules, the uid's own"


def test_worker_has_no_network_and_writes_only_its_folders(tmp_path, isolation):
    seen = run_inside(tmp_path)
    assert seen["network"] is False
    assert seen["/sub/x"] and seen["/tmp/x"]
    assert not seen[f"{ROOT}/grader/x"] and not seen["/usr/x"]


def test_tmpfs_comes_before_the_binds_so_kits_under_tmp_stay_visible():
    cmd = sandbox.bwrap_command(sandbox.sandbox_uid(0), Quota(), {})
    tmpfs = cmd.index("/tmp", cmd.index("--tmpfs"))
    venv = str(Path(sys.prefix).resolve())
    binds = [i for i, arg in enumerate(cmd) if arg == venv]
    assert binds and all(i > tmpfs for i in binds)
    assert str(ROOT / "solutions") not in cmd


def test_bwrap_is_started_by_its_absolute_path(isolation):
    """The sandbox gets a clean PATH (/usr/bin:/bin): a bubblewrap in /usr/local/bin must still start."""
    assert Path(sandbox.bwrap_command(sandbox.sandbox_uid(0), Quota(), {})[0]).is_absolute()


LIMITS_SEEN = "import resource; print(*(resource.getrlimit(r)[0] for r in (resource.RLIMIT_AS, resource.RLIMIT_DATA)))"


def test_memory_is_bounded_by_data_not_address_space_where_a_gpu_is_used():
    """CUDA reserves more address space than any sensible RLIMIT_AS: with a GPU, the data limit bounds memory."""
    limits = Limits(memory_bytes=5 << 30)
    seen = {}
    for gpu in (False, True):
        out = subprocess.run([sys.executable, "-c", LIMITS_SEEN], capture_output=True, text=True, check=True,
                             preexec_fn=functools.partial(apply_limits, limits, gpu))
        seen[gpu] = tuple(int(v) for v in out.stdout.split())
    assert seen[False] == (5 << 30, 5 << 30)
    assert seen[True] == (-1, 5 << 30)  # RLIM_INFINITY for the address space
