"""The trusted side of the fork server (grader.inside.zygote).

One zygote serves a whole grading run: the engine starts it before its grading processes and
hands them its address; a process grading on its own (the tests) starts its own on first use.
Each grading slot holds a ForkServer: a connection to the zygote. For each worker it starts a
new sandbox whose /sub holds a fresh copy of the submission's modules (without a sandbox: it
loads them into the slot's folder), asks the zygote to fork the worker into it, over fresh
pipes and an output file, and moves the worker into a memory cgroup of its own before it runs
any student code. Ending a worker kills its sandbox and then every process left of its uid, so
nothing of one submission is alive when the next one's worker starts; which quotas it ran into
is noted for the runner. Anything unexpected from the zygote ends the connection; the next
worker opens a new one.
"""

from __future__ import annotations

import atexit
import dataclasses
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from grader.inside.limits import Limits
from grader.isolation import cgroup, fallback, processes, quota, sandbox
from grader.isolation.quota import Incident, Quota
from grader.paths import DATA


class ForkServerFailed(Exception):
    """The zygote or a worker's sandbox did not start, or stopped answering."""


class Zygote:
    """A zygote process that this process started, and the folder holding its socket. For the uid
    fallback it starts confined by Landlock (grader.isolation.fallback), and so is every worker."""

    def __init__(self, isolation: sandbox.Isolation) -> None:
        command = [sys.executable, "-m", "grader.inside.zygote"]
        if isolation is sandbox.Isolation.UID:
            fallback.prepare()
            command = fallback.zygote_command(command)
        self.folder = Path(tempfile.mkdtemp(prefix="cnnkit-zygote-"))  # 0700: only we can connect
        self.address = str(self.folder / "socket")
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(self.address)
        listener.listen(64)
        env = {**sandbox.worker_environment(1), "HOME": str(self.folder), "MPLCONFIGDIR": str(self.folder / "mpl")}
        with open(self.folder / "zygote.log", "wb") as log:
            self.proc = subprocess.Popen(
                [*command, str(listener.fileno())], stdin=subprocess.PIPE,
                stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.folder, pass_fds=(listener.fileno(),),
                start_new_session=True,
            )
        listener.close()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self) -> str:
        return (self.folder / "zygote.log").read_text(errors="replace")[-300:].strip()

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


_QUOTA = Quota()  # what each worker of this process may use (set_quota)


def set_quota(limits: Quota) -> None:
    """The quota of every worker this process starts from now on."""
    global _QUOTA
    _QUOTA = limits


_OWN: dict[sandbox.Isolation, Zygote] = {}  # the zygotes this process started
_ADDRESS: str | None = None  # or the address of one the engine started


def use(address: str) -> None:
    """Fork workers from the zygote at `address` (the engine's), instead of starting one here."""
    global _ADDRESS
    _ADDRESS = address


def zygote_address(isolation: sandbox.Isolation) -> str:
    """The address of the zygote to fork from: the engine's, or this process's own for this
    isolation (started now if there is none, or if it died)."""
    if _ADDRESS is not None:
        return _ADDRESS
    own = _OWN.get(isolation)
    if own is None or not own.alive():
        if own is not None:
            own.stop()
        _OWN[isolation] = Zygote(isolation)
    return _OWN[isolation].address


class ForkServer:
    """A grading slot's connection to the zygote, and the sandbox of its current worker."""

    START_TIMEOUT = 300.0  # the zygote imports torch on a loaded machine
    ANSWER_TIMEOUT = 30.0
    SANDBOX_TIMEOUT = 30.0

    def __init__(self, isolation: sandbox.Isolation, uid: int, limits: Limits, threads: int) -> None:
        self.isolation, self.uid, self.limits, self.threads = isolation, uid, limits, threads
        self.base = Path(tempfile.mkdtemp(prefix="cnnkit-slot-"))
        self.folder = self.base / "sub"  # the worker's folder, without a sandbox (with one: a tmpfs at /sub)
        self.folder.mkdir()
        if isolation is sandbox.Isolation.UID:
            self.base.chmod(0o711)  # the worker's uid may reach its own folder, and list nothing
        self.log = self.base / "sandbox.log"
        self.incidents: list[Incident] = []  # the quotas its workers ran into, since last taken
        self._control: socket.socket | None = None
        self._sandbox: subprocess.Popen[bytes] | None = None
        self._sandbox_init: int | None = None  # a pidfd for the sandbox's init
        self._init_pid = 0
        self._cgroup: cgroup.Cgroup | None = None
        self._buffer = b""
        self._next_id = 0

    @property
    def control(self) -> socket.socket:
        assert self._control is not None
        return self._control

    def alive(self) -> bool:
        return self._control is not None

    def take_incidents(self) -> list[Incident]:
        """The quotas run into since the last call (for the submission just graded)."""
        found, self.incidents = list(dict.fromkeys(self.incidents)), []
        return found

    def start(self) -> None:
        """Connect to the zygote and wait until it answers (it may still be importing torch)."""
        self.stop()
        self._control, self._buffer = socket.socket(socket.AF_UNIX), b""
        try:
            self.control.connect(zygote_address(self.isolation))
        except OSError as exc:
            self.stop()
            raise ForkServerFailed(f"the fork server is not running: {exc}") from None
        if self._receive(self.START_TIMEOUT) != {"ready": True}:
            self.stop()
            tail = _OWN[self.isolation].log_tail() if self.isolation in _OWN else ""
            raise ForkServerFailed(f"the fork server did not start{': ' + tail if tail else ''}")

    def fork(self, modules: Path, output: Path, data: Path | None = None) -> tuple[Any, Any]:
        """Start a worker over a fresh copy of the modules in `modules` (in a new sandbox, or in the
        slot's folder without one) and return its (requests, replies) streams. `data`: the run's
        data folder (its relabelled digits replace the shipped ones)."""
        sandboxed = self.isolation is sandbox.Isolation.BWRAP
        if sandboxed:
            init_pid = self._start_sandbox(modules, data)
        else:
            init_pid = None
            self._load(modules)
        env = sandbox.worker_environment(self.threads, DATA if sandboxed or data is None else data)
        order = {"op": "fork", "sandbox": init_pid,
                 "uid": None if self.isolation is sandbox.Isolation.NONE else self.uid,
                 "limits": dataclasses.asdict(self.limits), "gpu": sandbox.gpu_visible(),
                 "env": env, "threads": self.threads,
                 "folder": str(sandbox.SUBMISSION_MOUNT if sandboxed else self.folder)}
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        out = os.open(output, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        # With the sandbox's init goes a pidfd for it: the zygote checks that the /proc/PID it
        # opened was that process, not one that took its number after it died.
        init = [self._sandbox_init] if self._sandbox_init is not None else []
        try:
            socket.send_fds(self.control, [json.dumps(order).encode() + b"\n"], [req_r, rep_w, out, *init])
        except OSError as exc:
            for fd in (req_w, rep_r):
                os.close(fd)
            self.stop()
            raise ForkServerFailed(f"the fork server stopped answering: {exc}") from None
        finally:
            for fd in (req_r, rep_w, out):
                os.close(fd)
        if self.isolation is not sandbox.Isolation.NONE:
            self._confine_memory()
        return os.fdopen(req_w, "wb"), os.fdopen(rep_r, "rb", buffering=0)

    def exited(self, timeout: float) -> int | None:
        """If the running worker has ended (the zygote says so within `timeout`), its exit status."""
        if not self.alive():
            return None
        if b"\n" not in self._buffer and not select.select([self.control], [], [], timeout)[0]:
            return None
        message = self._receive(self.ANSWER_TIMEOUT)
        if not isinstance(message, dict) or "exited" not in message:
            self.stop()
            raise ForkServerFailed("the fork server answered out of turn")
        return int(message["exited"])

    def end_worker(self) -> int | None:
        """Kill the worker's sandbox, and with it everything the worker started, then the worker
        (if it is still running) and wait for the zygote to confirm; return its exit status. Last,
        every process left of the slot's uid is killed (the uid fallback's daemons)."""
        try:
            return self._end_worker()
        finally:
            self._reap()

    def _end_worker(self) -> int | None:
        self._end_sandbox()
        if not self.alive():
            return None
        self._next_id += 1
        kill_id = self._next_id
        try:
            self.control.sendall(json.dumps({"op": "kill", "id": kill_id}).encode() + b"\n")
            status = None
            while True:
                message = self._receive(self.ANSWER_TIMEOUT)
                if not isinstance(message, dict) or "exited" not in message:
                    raise ForkServerFailed("the fork server did not confirm the end of a worker")
                status = int(message["exited"]) if status is None else status
                if message.get("for") == kill_id:
                    return status
        except (OSError, ForkServerFailed):
            self.stop()
            return None

    def stop(self) -> None:
        """Close the connection (the zygote's handler then kills the worker) and kill the sandbox."""
        self._end_sandbox()
        if self._control is not None:
            self._control.close()
            self._control = None

    def close(self) -> None:
        self.end_worker()  # a worker still running (only ever in a failure path) is ended first
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)

    def _start_sandbox(self, modules: Path, data: Path | None) -> int:
        """Start a new sandbox whose /sub holds the modules in `modules`; return the host PID of its init."""
        files = {f.name: os.open(f, os.O_RDONLY | os.O_NOFOLLOW) for f in sorted(modules.iterdir())
                 if f.is_file() and not f.is_symlink()}
        info_r, info_w = os.pipe()
        try:
            with open(self.log, "wb") as log:
                self._sandbox = subprocess.Popen(
                    sandbox.holder_command(self.uid, _QUOTA, files, info_w, data), stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE, stderr=log, env=sandbox.worker_environment(self.threads),
                    pass_fds=(info_w, *files.values()), start_new_session=True,
                )
        finally:
            for fd in (info_w, *files.values()):
                os.close(fd)
        with os.fdopen(info_r, "rb") as info:
            holder = self._sandbox.stdout
            assert holder is not None  # stdout=PIPE
            ready = select.select([holder], [], [], self.SANDBOX_TIMEOUT)[0]
            line = holder.readline() if ready else b""
            try:
                init_pid = int(json.loads(info.read())["child-pid"])
            except (ValueError, KeyError, TypeError):
                init_pid = 0
        if line.strip() == b"ready" and init_pid > 0:
            try:  # the init is alive (the holder just spoke), so this pidfd is for it, even if its pid is reused later
                self._sandbox_init, self._init_pid = os.pidfd_open(init_pid), init_pid
                return init_pid
            except OSError:
                pass
        self._end_sandbox()
        tail = self.log.read_text(errors="replace")[-300:].strip()
        raise ForkServerFailed(f"the sandbox did not start{': ' + tail if tail else ''}")

    def _end_sandbox(self) -> None:
        """Note which quotas the sandbox's tmpfs mounts ran into, kill its init and wait until it has
        died: the kernel first kills and reaps every other process of its PID namespace. Then end
        bubblewrap itself."""
        init, self._sandbox_init = self._sandbox_init, None
        if init is not None:
            root = Path(f"/proc/{self._init_pid}/root")
            for mount in (sandbox.SUBMISSION_MOUNT, Path("/tmp")):
                self.incidents += quota.filled(root / mount.relative_to("/"))
            try:
                signal.pidfd_send_signal(init, signal.SIGKILL)
                select.select([init], [], [], self.SANDBOX_TIMEOUT)
            except ProcessLookupError:
                pass
            finally:
                os.close(init)
        proc, self._sandbox = self._sandbox, None
        if proc is not None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()

    def _confine_memory(self) -> None:
        """Put the worker just forked into a memory cgroup of its own, before it runs student code
        (it waits for its first request): it is the one process of the slot's uid outside the
        sandbox's init (whose child, the holder, runs as that uid too)."""
        if not cgroup.available():
            return
        self._cgroup = cgroup.Cgroup.create(str(self.uid), _QUOTA.memory_bytes)
        end = time.monotonic() + self.ANSWER_TIMEOUT
        while time.monotonic() < end:
            worker = [pid for pid in processes.of_uids([self.uid]) if processes.parent(pid) != self._init_pid]
            for pid in worker:
                try:
                    self._cgroup.adopt(pid)
                except ProcessLookupError:  # it ended meanwhile: the zygote will say so
                    pass
            if worker or b"\n" in self._buffer or select.select([self.control], [], [], 0.002)[0]:
                return  # confined, or it ended already (the zygote said so)
        raise ForkServerFailed("the worker did not start")

    def _reap(self) -> None:
        """After a worker: kill whatever is left of its uid, sweep what it left in the shared
        temporary folders (only the uid fallback has them), note whether it ran out of memory."""
        if self.isolation is not sandbox.Isolation.NONE:
            processes.kill_uid(self.uid)
        if self.isolation is sandbox.Isolation.UID:
            fallback.sweep(self.uid)
        memory, self._cgroup = self._cgroup, None
        if memory is not None:
            if memory.oom_kills():
                self.incidents.append(Incident.MEMORY)
            memory.remove()

    def _load(self, modules: Path) -> None:
        """Make the slot's folder hold exactly a fresh copy of `modules`, owned by the worker's uid."""
        for entry in self.folder.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        for source in modules.iterdir():
            if source.is_file() and not source.is_symlink():
                shutil.copyfile(source, self.folder / source.name)
        if self.isolation is sandbox.Isolation.UID:
            for path in [self.folder, *self.folder.iterdir()]:
                os.chown(path, self.uid, self.uid, follow_symlinks=False)

    def _receive(self, timeout: float) -> Any:
        end = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = end - time.monotonic()
            ready, _, _ = select.select([self.control], [], [], max(left, 0))
            if not ready:
                return None
            data = self.control.recv(1 << 16)
            if not data:
                return None
            self._buffer += data
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            return json.loads(line)
        except ValueError:
            return None


_SERVERS: dict[tuple[Any, ...], ForkServer] = {}


def for_slot(isolation: sandbox.Isolation, uid: int, limits: Limits, threads: int) -> ForkServer:
    """The process's fork server connection for these settings, created on first use and kept until exit."""
    key = (isolation, uid, limits, threads)
    if key not in _SERVERS:
        _SERVERS[key] = ForkServer(isolation, uid, limits, threads)
    return _SERVERS[key]


@atexit.register
def close_all() -> None:
    """End every connection of this process and the zygote it started (at exit, or when a caller
    is done grading)."""
    while _SERVERS:
        _SERVERS.popitem()[1].close()
    while _OWN:
        _OWN.popitem()[1].stop()
