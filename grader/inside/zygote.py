"""The workers' fork server (zygote): one clean process imports torch, torchvision and the
scenario interpreter once (and warms up its graph tracer), and every worker of a grading run is
forked from that image. A submission pays a fork instead of an interpreter start and a torch
import (about 3 s on two cores), and all parallel slots share one copy of torch's memory.

The grader starts it (`python -m grader.inside.zygote LISTEN_FD`, stdin a pipe whose end stops it)
from a clean environment, before any hidden test or solution is loaded, so its memory holds
nothing a student may not see; it never runs student code. Each grading process connects and
gets a handler, a fork of the zygote, for its connection. Over it the grader sends "fork"
(with a request pipe, a reply pipe, an output file and a pidfd for the sandbox's init passed by
SCM_RIGHTS, and the sandbox, uid, limits and environment for the worker) and "kill"; the
handler answers "exited".

For a sandboxed worker the grader first starts a new sandbox with bubblewrap
(grader.isolation.sandbox.holder_command). The handler's child joins its namespaces with setns(), takes
its root, and forks the worker into its PID namespace. The worker closes every descriptor but
its pipes, sets the rlimits, drops every capability (bounding set included) and becomes the
slot's uid with no_new_privs, all before it imports the student's code. The zygote and its
handlers are root processes outside the sandbox: a worker can neither see nor signal them.
The grader ends a sandboxed worker by killing its sandbox: the kernel then kills every process
in the PID namespace and frees its /tmp and IPC objects. Without a sandbox (--sandbox none) the
worker runs as the grader's user in its own process group, which is killed when it ends.
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
from pathlib import Path
from typing import Any

PRELOAD = (
    "torch", "torch.optim", "torch.utils.data", "torchvision", "torchvision.transforms", "torchvision.utils",
    "matplotlib.figure", "matplotlib.font_manager", "matplotlib.backends.backend_agg", "PIL.Image",
    "grader.inside.worker",
    "grader.inside.limits", "grader.inside.kit", "_kit.datasets",
)
NAMESPACES = ("cgroup", "ipc", "uts", "net", "pid", "mnt")  # mnt last: it changes what /proc shows
PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 4, 24, 38
_libc = ctypes.CDLL(None, use_errno=True)


def preload() -> None:
    """Import what every scenario needs, warm up the tracer, then freeze it all so forks share the pages."""
    for name in PRELOAD:
        importlib.import_module(name)
    from grader.inside import export

    export.warm_up()  # the tracer's imports (torch._dynamo among them) and caches, once for every fork
    gc.collect()
    gc.freeze()


def send(control: socket.socket, message: dict[str, Any]) -> None:
    control.sendall(json.dumps(message).encode() + b"\n")


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
        message: dict[str, Any] = json.loads(line)
        return message


def enter_sandbox(init_pid: int, init_pidfd: int) -> None:
    """Join the namespaces of the sandbox whose init is `init_pid` and take its root, as nsenter
    does. `init_pidfd` proves that /proc/`init_pid` was still that init when it was opened."""
    root = os.open(f"/proc/{init_pid}/root", os.O_RDONLY | os.O_DIRECTORY)
    joined = []
    for ns in NAMESPACES:
        theirs = f"/proc/{init_pid}/ns/{ns}"
        if os.path.exists(theirs) and os.stat(theirs).st_ino != os.stat(f"/proc/self/ns/{ns}").st_ino:
            joined.append(os.open(theirs, os.O_RDONLY))
    signal.pidfd_send_signal(init_pidfd, 0)  # raises if the init died: its number may be another's now
    for fd in joined:
        if _libc.setns(fd, 0) != 0:
            raise OSError(ctypes.get_errno(), "setns() failed")
        os.close(fd)
    os.fchdir(root)
    os.chroot(".")
    os.close(root)


def drop_privileges(uid: int) -> None:
    """Become `uid` with no capabilities, an empty bounding set and no_new_privs; check it held."""
    last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    for cap in range(last + 1):
        _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    if os.getresuid() != (uid, uid, uid) or any(int(status[c], 16) for c in ("CapEff", "CapPrm", "CapBnd")):
        raise PermissionError("could not drop privileges")


def close_fds_except(keep: set[int]) -> None:
    """Close every descriptor above stderr but those in `keep`."""
    low = 3
    for fd in sorted(keep):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, os.sysconf("SC_OPEN_MAX"))


def run_worker(request_fd: int, reply_fd: int, output_fd: int, order: dict[str, Any]) -> None:
    """In the worker: take the submission's uid, limits and environment, then serve scenarios over its
    own pipes, and exit."""
    import torch

    from grader.inside import limits, worker

    code = 0
    try:
        os.setsid()  # its own process group, killed as one
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        os.dup2(output_fd, 1)
        os.dup2(output_fd, 2)
        close_fds_except({request_fd, reply_fd})
        limits.apply_limits(limits.Limits(**order["limits"]), order["gpu"])
        if order["uid"] is not None:
            drop_privileges(order["uid"])
        os.environ.clear()
        os.environ.update(order["env"])
        folder = Path(order["folder"])
        os.chdir(folder)
        sys.path[:] = [str(folder)] + [p for p in sys.path if p and os.path.isdir(p)]
        torch.set_num_threads(order["threads"])
        requests = os.fdopen(request_fd, "rb", buffering=0)
        replies = os.fdopen(reply_fd, "wb")
        worker.serve(worker.Submission(folder), requests, replies)
    except BaseException:  # whatever happened, this process ends here
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:  # a student may have replaced or closed them
                pass
        os._exit(code)


def run_child(fds: list[int], order: dict[str, Any]) -> None:
    """In the handler's child: become the worker, or, for a sandbox, enter it and fork the worker
    into its PID namespace, then end as the worker ended."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    requests, replies, output = fds[:3]
    if order["sandbox"] is None:
        run_worker(requests, replies, output, order)
    try:
        enter_sandbox(order["sandbox"], fds[3])
        worker_pid = os.fork()
    except BaseException:  # the sandbox was gone, or setns refused: report it as a crash
        os._exit(70)
    if worker_pid == 0:
        run_worker(requests, replies, output, order)
    for fd in fds:
        os.close(fd)
    _, status = os.waitpid(worker_pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code < 0:  # die of the same signal, so the grader can say why (SIGKILL's action cannot be set: it kills)
        if -code not in (signal.SIGKILL, signal.SIGSTOP):
            signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    os._exit(code & 0xFF)


def kill_group(leader: int) -> None:
    try:
        os.killpg(leader, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def end_child(child: int, sandboxed: bool) -> int:
    """Kill the running child (without a sandbox, its whole process group; in one, the grader
    kills the sandbox) and reap it; return its status."""
    if sandboxed:
        os.kill(child, signal.SIGKILL)
    else:
        kill_group(child)
    _, status = os.waitpid(child, 0)
    return os.waitstatus_to_exitcode(status)


def watch(child: int, reader: LineReader) -> tuple[int | None, int | None]:
    """Wait for the child to end or the grader to ask for a kill; return (status if it ended, kill id)."""
    while True:
        done, status = os.waitpid(child, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status), None
        if select.select([reader.control], [], [], 0.05)[0]:
            message = reader.read()
            if message is None or message.get("op") == "kill":
                return None, (message or {}).get("id", -1)


def handle(control: socket.socket) -> None:
    """Serve one grading process's connection: fork workers on request, one at a time."""
    reader = LineReader(control)
    send(control, {"ready": True})
    while True:
        message = reader.read()
        if message is None:
            return
        fds, reader.fds = reader.fds, []
        if message.get("op") == "fork" and len(fds) == (3 if message.get("sandbox") is None else 4):
            sys.stdout.flush()
            sys.stderr.flush()
            child = os.fork()
            if child == 0:
                control.close()
                run_child(fds, message)
            for fd in fds:
                os.close(fd)
            sandboxed = message["sandbox"] is not None
            status, kill_id = watch(child, reader)
            if status is None:
                status = end_child(child, sandboxed)
            elif not sandboxed:  # what the worker started outlives it in its group, unless killed
                kill_group(child)
            if kill_id == -1:  # the grader is gone
                return
        else:  # "kill" with no child running: nothing to kill, answer all the same
            for fd in fds:
                os.close(fd)
            status, kill_id = 0, message.get("id")
        send(control, {"exited": status, "for": kill_id})


def main() -> None:
    listener = socket.socket(fileno=int(sys.argv[1]))
    _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    preload()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # handlers are reaped by the kernel
    while True:
        ready, _, _ = select.select([listener, sys.stdin], [], [])
        if sys.stdin in ready and not os.read(sys.stdin.fileno(), 1):
            return  # the grader that started us is gone
        if listener in ready:
            connection, _ = listener.accept()
            if os.fork() == 0:
                listener.close()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                try:
                    handle(connection)
                finally:
                    os._exit(0)
            connection.close()


if __name__ == "__main__":
    main()
