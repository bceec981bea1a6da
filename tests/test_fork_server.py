"""The slot's fork server keeps every isolation guarantee of a fresh sandbox per submission:
nothing a submission started or wrote outlives its worker, a worker cannot reach the zygote,
a broken zygote is replaced, and without a sandbox the zygote sweeps nothing of the machine's."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
import torch

from grader import fork_server, sandbox
from grader.client import StudentError, Worker
from grader.paths import SOLUTIONS

LEFTOVERS = '''
import ctypes, os, time
from pathlib import Path
Path("/tmp/left-behind").write_text("x")
Path("/tmp/locked").mkdir()
Path("/tmp/locked/inside").write_text("x")
os.chmod("/tmp/locked", 0)
ctypes.CDLL(None).shmget(0x5EED, 4096, 0o1600)  # IPC_CREAT | 0600: a SysV segment
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        while True:
            time.sleep(1)
    os._exit(0)
'''

PEEK = '''
import os
try:
    os.listdir(f"/proc/{os.getppid()}/fd")
    print("ZYGOTE-FDS-READABLE")
except OSError as exc:
    print("zygote fds:", type(exc).__name__)
'''

UNSANDBOXED = '''
import os, time
from pathlib import Path
Path("/tmp/cnnkit-unsandboxed-{tag}").write_text("x")
if os.fork() == 0:  # a plain child: its process group is killed with the worker
    time.sleep(60)
    os._exit(0)
'''

KILL_ZYGOTE = '''
import os, signal
os.kill(os.getppid(), signal.SIGKILL)
'''

SLOT = 11  # a slot no other test uses, so the uid's processes are this test's alone


def uid_processes(uid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def worker_over(tmp_path: Path, name: str, source: str, isolation: sandbox.Isolation) -> Worker:
    folder = tmp_path / name / "sub"
    folder.mkdir(parents=True)
    (folder / "lenet.py").write_text(source)
    return Worker(folder, isolation, slot=SLOT, call_timeout=30)


def import_lenet(worker: Worker) -> None:
    """Make the worker import the student's lenet.py (the probe then fails: there is no Net)."""
    with pytest.raises(StudentError):
        worker.call("lenet.net_forward", cls="NoSuchNet", x=torch.zeros(1, 1, 32, 32))


def zygote(isolation: sandbox.Isolation) -> fork_server.ForkServer:
    return fork_server.for_slot(isolation, sandbox.sandbox_uid(SLOT), sandbox.Limits(), 1)


def sandbox_root(server: fork_server.ForkServer) -> Path:
    """The zygote's view of the file system, seen from the host (we are root)."""
    zygote_pid = max(uid_processes(server.uid))
    return Path(f"/proc/{zygote_pid}/root")


def test_nothing_a_submission_started_or_wrote_outlives_its_worker(tmp_path, isolation):
    uid = sandbox.sandbox_uid(SLOT)
    first = worker_over(tmp_path, "first", LEFTOVERS, isolation)
    import_lenet(first)
    assert len(uid_processes(uid)) >= 3  # the zygote, the worker and its daemon
    first.stop()
    assert len(uid_processes(uid)) == 1, "only the zygote may be left"
    root = sandbox_root(zygote(isolation))
    left = {p.name for p in (root / "tmp").iterdir()}
    assert not left & {"left-behind", "locked"}, "the worker's files in /tmp must be gone"
    assert all(Path("/tmp", name).is_dir() for name in left), "only bubblewrap's folders for binds may stay"
    assert len((root / "proc/sysvipc/shm").read_text().splitlines()) == 1  # the header alone
    server_pid = uid_processes(uid)

    second = worker_over(tmp_path, "second", (SOLUTIONS / "lenet.py").read_text(), isolation)
    out = second.call("lenet.net_forward", cls="Net", x=torch.zeros(2, 1, 32, 32))
    assert tuple(out["out"].shape) == (2, 10)
    assert set(server_pid) <= set(uid_processes(uid)), "the next submission reuses the zygote"
    assert not (Path(second.workdir) / "left-behind").exists()
    second.stop()


def test_a_worker_cannot_read_the_zygotes_file_descriptors(tmp_path, isolation):
    worker = worker_over(tmp_path, "peek", PEEK, isolation)
    import_lenet(worker)
    worker.stop()
    printed = worker.output()
    assert "zygote fds: PermissionError" in printed and "READABLE" not in printed


def test_a_killed_zygote_is_replaced_for_the_next_worker(tmp_path, isolation):
    worker = worker_over(tmp_path, "killer", KILL_ZYGOTE, isolation)
    with pytest.raises(Exception):
        worker.call("lenet.net_forward", cls="Net", x=torch.zeros(1, 1, 32, 32))
    worker.stop()
    healthy = worker_over(tmp_path, "healthy", (SOLUTIONS / "lenet.py").read_text(), isolation)
    out = healthy.call("lenet.net_forward", cls="Net", x=torch.zeros(1, 1, 32, 32))
    assert tuple(out["out"].shape) == (1, 10)
    healthy.stop()
    assert zygote(isolation).alive()


def test_without_a_sandbox_the_zygote_leaves_the_machine_alone(tmp_path):
    """--sandbox none: no kill -1 and no emptying of the machine's /tmp, only the worker's group."""
    tag = os.getpid()
    sentinel, written = Path(f"/tmp/cnnkit-sentinel-{tag}"), Path(f"/tmp/cnnkit-unsandboxed-{tag}")
    sentinel.write_text("mine")
    bystander = subprocess.Popen(["sleep", "60"])
    try:
        worker = worker_over(tmp_path, "plain", UNSANDBOXED.format(tag=tag), sandbox.Isolation.NONE)
        import_lenet(worker)
        worker.stop()
        time.sleep(0.2)
        assert sentinel.exists() and written.exists() and bystander.poll() is None
        children = subprocess.run(["pgrep", "-f", "cnnkit-unsandboxed"], capture_output=True, text=True).stdout
        assert not children.strip(), "the worker's own child must die with it"
    finally:
        bystander.kill()
        sentinel.unlink(missing_ok=True)
        written.unlink(missing_ok=True)
        zygote(sandbox.Isolation.NONE).stop()
