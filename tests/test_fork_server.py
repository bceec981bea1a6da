"""Forking workers from one zygote keeps every isolation guarantee of a fresh interpreter per
submission: nothing a submission started or wrote outlives its worker, a worker runs with no
privileges and can neither see nor signal the zygote, a dead zygote is replaced, and without
a sandbox only the worker's own process group is killed."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest
import torch

from grader.grading.scenario import Scenario
from grader.inside.limits import Limits
from grader.isolation import fork_server, sandbox
from grader.isolation.remote import RemoteSubmission, StudentError, WorkerFailed
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

LOOK_AROUND = '''
import os
from pathlib import Path
print("TMP:", sorted(p.name for p in Path("/tmp").iterdir()))
print("SHM:", len(Path("/proc/sysvipc/shm").read_text().splitlines()) - 1)
status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
print("CAPS:", [int(status[c], 16) for c in ("CapEff", "CapPrm", "CapBnd")], "NNP:", status["NoNewPrivs"].strip())
others = [int(p) for p in os.listdir("/proc") if p.isdigit() and os.stat(f"/proc/{p}").st_uid != os.getuid()]
print("OTHERS:", others, "PARENT:", os.getppid())
for pid in others:
    try:
        os.listdir(f"/proc/{pid}/fd")
        print("FDS-READABLE", pid)
    except OSError:
        pass
    try:
        os.kill(pid, 0)
        print("SIGNALLABLE", pid)
    except OSError:
        pass
'''

KILL_ALL = '''
import os, signal
for target in (os.getppid(), 1, -1):
    try:
        os.kill(target, signal.SIGKILL)
    except OSError:
        pass
'''

UNSANDBOXED = '''
import os, time
from pathlib import Path
Path("/tmp/cnnkit-unsandboxed-{tag}").write_text("x")
if os.fork() == 0:  # a plain child: its process group is killed with the worker
    time.sleep(60)
    os._exit(0)
'''

SLOT = 11  # a slot no other test uses, so the uid's processes are this test's alone
LENET = (SOLUTIONS / "lenet.py").read_text()


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


def worker_over(tmp_path: Path, name: str, source: str, isolation: sandbox.Isolation) -> RemoteSubmission:
    folder = tmp_path / name / "sub"
    folder.mkdir(parents=True)
    (folder / "lenet.py").write_text(source)
    return RemoteSubmission(folder, isolation, slot=SLOT, call_timeout=30)


def import_lenet(worker: RemoteSubmission) -> None:
    """Make the worker import the student's lenet.py (the call then fails: there is no NoSuchNet)."""
    s = Scenario("lenet")
    s.call("lenet.NoSuchNet")
    with pytest.raises(StudentError):
        s.run(worker)


def forward(worker: RemoteSubmission) -> tuple[int, ...]:
    s = Scenario("lenet")
    out = s.call(s.call("lenet.Net"), torch.zeros(2, 1, 32, 32))
    return tuple(s.run(worker).value(out).shape)


def own_zygote(isolation: sandbox.Isolation = sandbox.Isolation.BWRAP) -> fork_server.Zygote:
    assert fork_server._OWN[isolation].alive()
    return fork_server._OWN[isolation]


def test_nothing_a_submission_started_or_wrote_outlives_its_worker(tmp_path, isolation):
    uid = sandbox.sandbox_uid(SLOT)
    first = worker_over(tmp_path, "first", LEFTOVERS, isolation)
    import_lenet(first)
    assert len(uid_processes(uid)) >= 3  # the sandbox's holder, the worker and its daemon
    zygote_pid = own_zygote().proc.pid
    first.stop()
    assert not uid_processes(uid), "nothing of the submission may be left"

    second = worker_over(tmp_path, "second", LOOK_AROUND + LENET, isolation)
    assert forward(second) == (2, 10)
    second.stop()
    printed = second.output()
    left = eval(printed.split("TMP:")[1].splitlines()[0])  # our own probe's repr
    assert not set(left) & {"left-behind", "locked"}, "the worker's files in /tmp must be gone"
    assert all(Path("/tmp", name).is_dir() for name in left), "only bubblewrap's folders for binds may stay"
    assert "SHM: 0" in printed, "the SysV segment must be gone"
    assert own_zygote().proc.pid == zygote_pid, "the next submission forks from the same zygote"


def test_a_worker_has_no_privileges_and_cannot_reach_the_zygote(tmp_path, isolation):
    worker = worker_over(tmp_path, "peek", LOOK_AROUND, isolation)
    import_lenet(worker)
    worker.stop()
    printed = worker.output()
    assert "CAPS: [0, 0, 0] NNP: 1" in printed
    assert "OTHERS: [1] PARENT: 0" in printed, "only the sandbox's init (root) is visible, not the zygote"
    assert "READABLE" not in printed and "SIGNALLABLE" not in printed


def test_a_worker_that_kills_all_it_can_harms_only_itself(tmp_path, isolation):
    worker = worker_over(tmp_path, "killer", KILL_ALL, isolation)
    with pytest.raises((WorkerFailed, StudentError)):  # it died, or its own code failed first
        forward(worker)
    worker.stop()
    zygote_pid = own_zygote().proc.pid
    healthy = worker_over(tmp_path, "healthy", LENET, isolation)
    assert forward(healthy) == (2, 10)
    healthy.stop()
    assert own_zygote().proc.pid == zygote_pid


def test_a_dead_zygote_is_replaced_for_the_next_worker(tmp_path, isolation):
    warm = worker_over(tmp_path, "warm", LENET, isolation)
    assert forward(warm) == (2, 10)
    warm.stop()
    fork_server.for_slot(isolation, sandbox.sandbox_uid(SLOT), Limits(), 1).stop()
    dead = own_zygote()
    dead.proc.kill()
    dead.proc.wait()
    healthy = worker_over(tmp_path, "after", LENET, isolation)
    assert forward(healthy) == (2, 10)
    healthy.stop()
    assert own_zygote().proc.pid != dead.proc.pid


def test_no_worker_is_forked_into_a_sandbox_that_died(tmp_path, isolation):
    """The zygote's child checks the sandbox's init through its pidfd: if it died, no worker starts."""
    server = fork_server.ForkServer(isolation, sandbox.sandbox_uid(SLOT), Limits(), 1)
    start_sandbox = server._start_sandbox

    def start_then_kill(modules: Path, data: Path | None) -> int:
        init_pid = start_sandbox(modules, data)
        signal.pidfd_send_signal(server._sandbox_init, signal.SIGKILL)
        select.select([server._sandbox_init], [], [], 10)
        return init_pid

    server._start_sandbox = start_then_kill
    modules = tmp_path / "modules"
    modules.mkdir()
    (modules / "lenet.py").write_text(LENET)
    try:
        server.start()
        server.fork(modules, tmp_path / "output")
        assert server.exited(30) == 70
    finally:
        server.close()


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
        fork_server.for_slot(sandbox.Isolation.NONE, sandbox.sandbox_uid(SLOT), Limits(), 1).stop()
