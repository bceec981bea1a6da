"""The worker's fork server: it runs INSIDE a slot's sandbox, imports torch once, and forks one
fresh worker per submission, so a submission pays a fork instead of a sandbox start and a
torch import (about 3 s each time on two cores).

It runs as `python -m grader.zygote CONTROL_FD FOLDER ISOLATION` (under the slot's unprivileged
uid when ISOLATION is "bwrap"), and never
runs student code itself. Over the control socket (which only it holds) the trusted grader
sends "fork" with a fresh request pipe, reply pipe and output file, and "kill". Each child
closes the control socket before it imports anything of the student's, then serves probes
exactly as `grader.worker` does, over its own pipes only.

When a child ends (or is killed), the zygote kills every other process of its uid in the
sandbox (the child's whole tree, daemons included) and checks that none is left, empties
/tmp and removes SysV IPC objects, and only then reports "exited": the next
submission's child starts from the same clean state a new sandbox would give it. The zygote
is not dumpable, so a child can neither ptrace it nor read its file descriptors through
/proc; a child that signals it only ends the slot's sandbox, which the grader restarts.
Without a sandbox (--sandbox none) there is nothing of its own to sweep: it only kills the
child's process group, and never touches the machine's /tmp or IPC objects.
"""

from __future__ import annotations

import ctypes
import gc
import importlib
import json
import os
import select
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

PRELOAD = (
    "torch", "torch.optim", "torch.utils.data", "torchvision", "torchvision.transforms", "torchvision.utils",
    "matplotlib.figure", "matplotlib.font_manager", "matplotlib.backends.backend_agg", "PIL.Image", "grader.worker",
)
SCRATCH = (Path("/tmp"),)  # the one writable place besides /sub, which the grader refills
PR_SET_DUMPABLE, PR_SET_CHILD_SUBREAPER = 4, 36
IPC_RMID = 0
_libc = ctypes.CDLL(None, use_errno=True)


def preload() -> None:
    """Import what every probe needs, then freeze it so children share the pages."""
    for name in PRELOAD:
        importlib.import_module(name)
    for path in sorted((Path(__file__).parent / "probes").glob("*.py")):
        importlib.import_module(f"grader.probes.{path.stem}" if path.stem != "__init__" else "grader.probes")
    gc.collect()
    gc.freeze()


def send(control: socket.socket, message: dict[str, Any]) -> None:
    control.sendall(json.dumps(message).encode() + b"\n")


def run_child(request_fd: int, reply_fd: int, output_fd: int, folder: Path, threads: int) -> None:
    """In the forked child: become a worker for the submission in `folder`, then exit."""
    from grader import worker

    os.setsid()  # its own process group, killed as one
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    os.close(output_fd)
    os.chdir(folder)
    sys.path.insert(0, str(folder))
    code = 0
    try:
        worker.torch.set_num_threads(threads)
        requests = os.fdopen(request_fd, "rb", buffering=0)
        replies = os.fdopen(reply_fd, "wb")
        worker.serve(worker.Submission(folder), requests, replies)
    except BaseException:  # noqa: BLE001 - whatever happened, this process ends here
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:  # noqa: BLE001 - a student may have replaced or closed them
                pass
        os._exit(code)


def kill_others(child: int, sandboxed: bool) -> None:
    """Kill and reap the child's process group and, in a sandbox, every other process of the
    sandbox but the zygote (and bubblewrap's init)."""
    me = os.getpid()
    for _ in range(100):
        for target in (-child, -1) if sandboxed else (-child,):
            try:
                os.kill(target, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
        if not sandboxed:
            return
        alive = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and int(p.name) not in (1, me)]
        if not alive:
            return
        time.sleep(0.01)
    raise RuntimeError("processes of a finished submission survived")


def mounts_below(folder: Path) -> set[Path]:
    """The mount points under `folder` and their ancestors: bubblewrap's binds (a kit or venv that
    lives under /tmp is bound there), which are read-only and not the children's to remove."""
    kept: set[Path] = set()
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = Path(line.split()[4].replace("\\040", " "))
        if folder in point.parents:
            kept.add(point)
            kept.update(p for p in point.parents if folder in p.parents)
    return kept


def remove(path: Path, kept: set[Path]) -> None:
    """Remove `path` and everything under it, except the bind mounts in `kept` (and their ancestors)."""
    if path in kept:
        if path.is_dir() and not path.is_mount():
            for entry in path.iterdir():
                remove(entry, kept)
        return
    if path.is_dir() and not path.is_symlink():
        path.chmod(0o700)
        for entry in path.iterdir():
            remove(entry, kept)
        path.rmdir()
    else:
        path.unlink(missing_ok=True)


def wipe_scratch() -> None:
    """Empty the writable scratch places and remove SysV IPC objects a child left behind."""
    for folder in SCRATCH:
        if folder.is_dir():
            kept = mounts_below(folder)
            for entry in folder.iterdir():
                remove(entry, kept)
    for kind, remove_ipc in (("shm", _libc.shmctl), ("sem", _libc.semctl), ("msg", _libc.msgctl)):
        table = Path(f"/proc/sysvipc/{kind}")
        if table.exists():
            for line in table.read_text().splitlines()[1:]:
                ident = int(line.split()[1])
                if kind == "sem":
                    remove_ipc(ident, 0, IPC_RMID)
                else:
                    remove_ipc(ident, IPC_RMID, None)


def watch(pid: int, reader: "LineReader", sandboxed: bool) -> tuple[int, int | None]:
    """Wait for the child to end, killing it if the grader asks; return (status, kill request id)."""
    kill_id = None
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return (os.waitstatus_to_exitcode(status), kill_id)
        ready, _, _ = select.select([reader.control], [], [], 0.05)
        if ready:
            message = reader.read()
            if message is None:  # the grader is gone: end everything
                kill_others(pid, sandboxed)
                os._exit(0)
            if message.get("op") == "kill":
                kill_id = message.get("id")
                os.kill(pid, signal.SIGKILL)


class LineReader:
    """JSON lines from the control socket, with the file descriptors sent alongside."""

    def __init__(self, control: socket.socket) -> None:
        self.control = control
        self.buffer = b""
        self.fds: list[int] = []

    def read(self) -> dict[str, Any] | None:
        while b"\n" not in self.buffer:
            data, fds, _, _ = socket.recv_fds(self.control, 1 << 16, 8)
            if not data:
                return None
            self.buffer += data
            self.fds += fds
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[1]))
    folder = Path(sys.argv[2])
    # Sweeping the sandbox (kill -1, emptying /tmp) is only safe inside one, as an unprivileged uid.
    sandboxed = sys.argv[3] == "bwrap" and os.getuid() != 0 and os.getpid() != 1
    threads = int(os.environ.get("CNN_KIT_THREADS", "1"))
    _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    preload()
    reader = LineReader(control)
    send(control, {"ready": True})
    child = 0
    while True:
        message = reader.read()
        if message is None:
            return
        if message.get("op") == "fork" and len(reader.fds) == 3:
            request_fd, reply_fd, output_fd = reader.fds
            reader.fds = []
            sys.stdout.flush()
            sys.stderr.flush()
            child = os.fork()
            if child == 0:
                control.close()
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                run_child(request_fd, reply_fd, output_fd, folder, threads)
            for fd in (request_fd, reply_fd, output_fd):
                os.close(fd)
            status, kill_id = watch(child, reader, sandboxed)
        else:  # "kill" with no child running: nothing to kill, but sweep and answer all the same
            for fd in reader.fds:
                os.close(fd)
            reader.fds = []
            status, kill_id = 0, message.get("id")
        if child:
            kill_others(child, sandboxed)
            child = 0  # never signal its group again: without a sandbox its number may be reused
        if sandboxed:
            wipe_scratch()
        send(control, {"exited": status, "for": kill_id})


if __name__ == "__main__":
    main()
