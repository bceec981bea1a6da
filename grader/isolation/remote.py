"""The trusted side of the channel: start a submission's worker, send scenarios, read the readings.

A worker is a fork of the run's zygote, in a new sandbox (grader.isolation.fork_server). Every call has
a deadline. A worker that crashes, exits, hangs or garbles the channel is killed with
everything it started and a fresh one is forked for the next call, up to a limit, so tests
that ran before still count and one bad request does not sink the rest. The exercise whose
request failed that way gets no further request: its remaining checks fail at once instead of
each paying the same timeout, and the other exercises go on.
"""

from __future__ import annotations

import select
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.inside import protocol
from grader.inside.limits import Limits
from grader.isolation import fork_server, sandbox


class StudentError(Exception):
    """The student's code raised, or could not be imported, during a request; for a scenario, `step`
    is the failing step and `results` the readings of the steps before it."""

    def __init__(self, info: dict[str, Any], step: int | None = None, results: list[Any] | None = None) -> None:
        self.info = info
        self.step = step
        self.results = results or []
        super().__init__(info.get("message", ""))

    @property
    def not_started(self) -> bool:
        return bool(self.info.get("not_started"))


class WorkerFailed(Exception):
    """The worker died, timed out or broke the protocol."""

    def __init__(self, reason: str, timed_out: bool = False) -> None:
        super().__init__(reason)
        self.timed_out = timed_out


@dataclass
class WorkerStats:
    """What happened to a submission's workers."""

    starts: int = 0
    crashes: int = 0  # deaths that were not timeouts (a timeout shows in its test's outcome)
    output_bytes: int = 0
    events: list[str] = field(default_factory=list)


class RemoteSubmission:
    """The student's code behind the channel: one submission's sandboxed worker, restarted on failure."""

    OUTPUT_LIMIT = 64 << 10  # what of the student's output is kept for the report
    GRACE = 2.0  # seconds a worker gets to end by itself once its channel is closed

    def __init__(
        self,
        workdir: Path,
        isolation: sandbox.Isolation,
        slot: int = 0,
        limits: Limits = Limits(),
        deadline: float | None = None,
        max_restarts: int = 8,
        threads: int = 1,
        call_timeout: float = 60.0,
        data: Path | None = None,
    ) -> None:
        self.workdir = workdir
        self.data = data  # the run's data folder (grader.grading.digits.relabelled_data), if any
        self.isolation = isolation
        self.uid = sandbox.sandbox_uid(slot)
        self.limits = limits
        self.deadline = deadline
        self.max_restarts = max_restarts
        self.threads = threads
        self.call_timeout = call_timeout
        self.stats = WorkerStats()
        self.output_path = workdir.parent / f"{workdir.name}.output"
        self._server: fork_server.ForkServer | None = None
        self._status: int | None = None  # how the last worker ended, once known
        self._requests: Any = None
        self._replies: Any = None
        self._next_id = 0
        self._broken: dict[str, WorkerFailed] = {}  # exercise -> why its checks are no longer run

    # -- lifecycle -------------------------------------------------------
    def start(self) -> None:
        """Start a fresh worker (ending any previous one): a fork of the zygote, in a new sandbox."""
        self.stop()
        self._status = None
        if self.stats.starts > self.max_restarts:
            raise WorkerFailed("the submission kept crashing; remaining checks were not run")
        server = fork_server.for_slot(self.isolation, self.uid, self.limits, self.threads)
        try:
            if not server.alive():
                server.start()
            self._requests, self._replies = server.fork(self.workdir, self.output_path, self.data)
        except fork_server.ForkServerFailed as exc:
            raise WorkerFailed(str(exc)) from None
        self._server = server
        self.stats.starts += 1

    def stop(self) -> None:
        """End the worker, and with its sandbox everything it started."""
        for stream in (self._requests, self._replies):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass
        self._requests = self._replies = None
        server, self._server = self._server, None
        if server is not None:
            try:  # with its channel closed, a worker ends by itself (flushing its output) ...
                status = server.exited(self.GRACE)
            except fork_server.ForkServerFailed:
                status = None
            killed = server.end_worker()  # ... and whatever is left is killed and swept
            if self._status is None:
                self._status = status if status is not None else killed
        self.stats.output_bytes = self.output_path.stat().st_size if self.output_path.exists() else 0

    def output(self) -> str:
        """The start of what the student's code printed (capped)."""
        if not self.output_path.exists():
            return ""
        with open(self.output_path, "rb") as f:
            return f.read(self.OUTPUT_LIMIT).decode("utf-8", "replace")

    # -- calls -----------------------------------------------------------
    def run(self, exercise: str, steps: list[dict[str, Any]], seed: int = 0, timeout: float | None = None) -> list[Any]:
        """Run a scenario in the worker; return one reading per step, or raise StudentError (with the
        failing step and the readings before it) or WorkerFailed."""
        return list(self.request(exercise, {"steps": steps, "seed": seed}, timeout).get("results") or [])

    def request(self, exercise: str, payload: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
        """Send one request for `exercise`'s checks and return the worker's reply, or raise.

        `timeout` is for requests known to be long (training); others get the worker's default.
        """
        timeout = max(timeout or 0.0, self.call_timeout)
        if exercise in self._broken:
            earlier = self._broken[exercise]
            raise WorkerFailed(f"not run: an earlier check of this exercise failed ({earlier})", earlier.timed_out)
        if self._server is None:
            self.start()
        if self.deadline is not None:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise WorkerFailed("the submission's time budget ran out", timed_out=True)
            timeout = min(timeout, remaining)
        self._next_id += 1
        try:
            protocol.write_message(self._requests, {"id": self._next_id, **payload})
            reply = self._read(timeout)
        except WorkerFailed as failure:
            self._record(failure, exercise)
            self.stop()
            raise
        except (OSError, protocol.ProtocolError) as exc:
            died = WorkerFailed(self._death_reason(exc))
            self._record(died, exercise)
            self.stop()
            raise died from None
        if not isinstance(reply, dict) or reply.get("id") != self._next_id:
            self.stop()
            raise WorkerFailed("the submission wrote over the grader's channel")
        if reply.get("ok"):
            return reply
        error = reply.get("error")
        info = error if isinstance(error, dict) else {"type": "Error", "message": str(error)}
        raise StudentError(info, step=reply.get("step"), results=reply.get("results"))

    def _read(self, timeout: float) -> Any:
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise WorkerFailed(f"a check took longer than {timeout:.0f} s (infinite loop?)", timed_out=True)
            ready, _, _ = select.select([self._replies], [], [], min(left, 1.0))
            if ready:
                try:
                    return protocol.read_message(self._replies)
                except protocol.ChannelClosed:
                    raise WorkerFailed(self._death_reason(None)) from None
            if self._server is not None and self._server.alive():
                try:
                    status = self._server.exited(0)
                except fork_server.ForkServerFailed as exc:
                    raise WorkerFailed(str(exc)) from None
                if status is not None:  # it ended while a daemon it started holds the channel open
                    self._status = status
                    raise WorkerFailed(self._death_reason(None))
            else:
                raise WorkerFailed("the submission's sandbox stopped")

    def _death_reason(self, exc: BaseException | None) -> str:
        if self._status is None and self._server is not None:
            try:
                self._status = self._server.exited(5.0)
            except fork_server.ForkServerFailed:
                pass
        code = self._status
        if code is not None and code < 0:
            return (f"the submission's process was killed by signal {signal.Signals(-code).name} "
                    "(a memory or CPU limit, or the code killed itself?)")
        if code is not None:
            return f"the submission's process exited with code {code} (sys.exit or os._exit in student code?)"
        return f"the channel to the submission broke: {exc}"

    def _record(self, failure: WorkerFailed, exercise: str) -> None:
        self._broken[exercise] = failure
        if not failure.timed_out:
            self.stats.crashes += 1
        self.stats.events.append(str(failure))

