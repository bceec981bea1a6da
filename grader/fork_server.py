"""The trusted side of a slot's fork server (grader.zygote, which runs in the sandbox).

One ForkServer per grading slot starts the sandbox once and keeps it between submissions.
For each worker it loads the submission's modules into the slot's folder (seen as /sub in
the sandbox), creates fresh pipes and an output file, and asks the zygote to fork. Ending a
worker always goes through the zygote's kill-and-sweep, so no process of one submission is
alive when the next one's worker starts. Anything unexpected from the zygote ends the whole
sandbox; the next worker starts a new one.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from grader import sandbox


class ForkServerFailed(Exception):
    """The slot's sandbox did not start, or stopped answering."""


class ForkServer:
    """A slot's sandbox with the zygote in it."""

    START_TIMEOUT = 300.0  # importing torch on a loaded machine
    ANSWER_TIMEOUT = 30.0  # a kill and a sweep

    def __init__(self, isolation: sandbox.Isolation, uid: int, limits: sandbox.Limits, threads: int) -> None:
        self.isolation, self.uid, self.limits, self.threads = isolation, uid, limits, threads
        self.base = Path(tempfile.mkdtemp(prefix="cnnkit-slot-"))
        self.folder = self.base / "sub"
        self.folder.mkdir()
        self.log = self.base / "zygote.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._control: socket.socket | None = None
        self._buffer = b""
        self._next_id = 0

    @property
    def control(self) -> socket.socket:
        assert self._control is not None
        return self._control

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        """Start the sandbox and wait until the zygote has imported everything."""
        self.stop()
        ours, theirs = socket.socketpair()
        sandbox.prepare_workdir(self.folder, self.uid, self.isolation)
        gpu = sandbox.gpu_visible()
        with open(self.log, "wb") as log:
            self._proc = subprocess.Popen(
                sandbox.zygote_command(self.isolation, self.folder, self.uid, theirs.fileno()),
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=sandbox.worker_environment(self.isolation, self.threads), cwd=self.folder,
                pass_fds=(theirs.fileno(),), start_new_session=True,
                preexec_fn=lambda: sandbox.apply_limits(self.limits, gpu),
            )
        theirs.close()
        self._control, self._buffer = ours, b""
        if self._receive(self.START_TIMEOUT) != {"ready": True}:
            tail = self.log.read_text(errors="replace")[-300:].strip()
            self.stop()
            raise ForkServerFailed(f"the sandbox did not start{': ' + tail if tail else ''}")

    def fork(self, modules: Path, output: Path) -> tuple[Any, Any]:
        """Load the modules in `modules` and fork a worker over them; return its (requests, replies) streams."""
        self._load(modules)
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        out = os.open(output, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            socket.send_fds(self.control, [b'{"op": "fork"}\n'], [req_r, rep_w, out])
        except OSError as exc:
            for fd in (req_r, req_w, rep_r, rep_w):
                os.close(fd)
            raise ForkServerFailed(f"the sandbox stopped answering: {exc}") from None
        finally:
            for fd in (req_r, rep_w, out):
                try:
                    os.close(fd)
                except OSError:
                    pass
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
            raise ForkServerFailed("the sandbox answered out of turn")
        return int(message["exited"])

    def end_worker(self) -> int | None:
        """Kill the running worker (if any) and wait for the sweep; return its exit status."""
        if not self.alive():
            self.stop()
            return None
        self._next_id += 1
        kill_id = self._next_id
        try:
            self.control.sendall(json.dumps({"op": "kill", "id": kill_id}).encode() + b"\n")
            status = None
            while True:
                message = self._receive(self.ANSWER_TIMEOUT)
                if not isinstance(message, dict) or "exited" not in message:
                    raise ForkServerFailed("the sandbox did not confirm the end of a worker")
                status = int(message["exited"]) if status is None else status
                if message.get("for") == kill_id:
                    return status
        except (OSError, ForkServerFailed):
            self.stop()
            return None

    def stop(self) -> None:
        """End the whole sandbox."""
        proc, self._proc = self._proc, None
        if self._control is not None:
            self._control.close()
            self._control = None
        if proc is not None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            proc.wait()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)

    def _load(self, modules: Path) -> None:
        """Make the slot's folder hold exactly a fresh copy of `modules`, owned by the sandbox uid."""
        for entry in self.folder.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        for source in modules.iterdir():
            if source.is_file() and not source.is_symlink():
                shutil.copyfile(source, self.folder / source.name)
        sandbox.prepare_workdir(self.folder, self.uid, self.isolation)

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


def for_slot(isolation: sandbox.Isolation, uid: int, limits: sandbox.Limits, threads: int) -> ForkServer:
    """The process's fork server for these settings, created on first use and kept until exit."""
    key = (isolation, uid, limits, threads)
    if key not in _SERVERS:
        _SERVERS[key] = ForkServer(isolation, uid, limits, threads)
    return _SERVERS[key]


@atexit.register
def close_all() -> None:
    """End every fork server of this process (at exit, or when a caller is done grading)."""
    while _SERVERS:
        _SERVERS.popitem()[1].close()
