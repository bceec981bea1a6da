"""Grade one submission: copy its modules into a fresh folder, run the hidden suite here, in
the trusted process, against a sandboxed worker that runs the student's code.
"""

from __future__ import annotations

import contextlib
import io
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from grader import flags, plugin, registry, sandbox
from grader.client import Worker
from grader.options import GradeOptions
from grader.results import Outcome, Status, SubmissionResult


class WorkerPlugin:
    """Gives the hidden tests their `submission` fixture: the sandboxed worker."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker

    @pytest.fixture
    def submission(self) -> Worker:
        """The student's code, behind the narrow channel."""
        return self.worker


def run_suite(worker: Worker, hidden: Path, exercises: tuple[str, ...] = (), keyword: str = "") -> tuple[list, float]:
    """Run the hidden suite against `worker`; return its records and the suite's maximum."""
    records: list = []
    maximum = [0.0]

    class Collect:
        @pytest.hookimpl(trylast=True)
        def pytest_sessionfinish(self, session: pytest.Session) -> None:
            records.extend(session.config.stash[plugin.RECORDS])
            maximum[0] = session.config.stash[plugin.MAX_SCORE]

    targets = [str(hidden / f"test_{e}.py") for e in exercises] or [str(hidden)]
    args = [*targets, "-c", str(hidden / "pytest.ini"), "--rootdir", str(hidden), "-p", "grader.plugin",
            "-q", "--no-header", "--tb=no", "-p", "no:cacheprovider", *(["-k", keyword] if keyword else [])]
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        code = pytest.main(args, plugins=[WorkerPlugin(worker), Collect()])
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        raise RuntimeError(f"the hidden suite itself failed to run (pytest exit {int(code)}):\n{sink.getvalue()[-2000:]}")
    return records, maximum[0]


def grade(student: str, sources: dict[str, bytes], options: GradeOptions = GradeOptions(), slot: int = 0) -> SubmissionResult:
    """Grade one student's modules (file name -> bytes, registry modules only)."""
    started = time.monotonic()
    found = [f for name, src in sources.items() for f in flags.scan(src.decode("utf-8", "replace"), name)]
    base = Path(tempfile.mkdtemp(prefix="cnnkit-"))
    workdir = base / "sub"
    workdir.mkdir()
    for name in registry.student_modules():
        if name in sources:
            (workdir / name).write_bytes(sources[name])
    worker = Worker(workdir, options.isolation, slot=slot, limits=options.limits,
                    deadline=started + options.timeout, threads=options.threads,
                    call_timeout=options.call_timeout)
    try:
        records, maximum = run_suite(worker, options.hidden, options.exercises, options.keyword)
    finally:
        worker.stop()
        shutil.rmtree(base, ignore_errors=True)
    stats = worker.stats
    if any(r.outcome is Outcome.TIMEOUT for r in records):
        status = Status.TIMEOUT
    elif stats.crashes:
        status = Status.ERROR
    else:
        status = Status.GRADED
    found += [f"runtime: {event}" for event in dict.fromkeys(stats.events)]
    if stats.output_bytes >= options.limits.file_bytes:
        found.append("runtime: printed more output than the cap allows")
    if options.isolation is sandbox.Isolation.NONE:
        found.append("unsandboxed: graded without isolation (--sandbox none)")
    missing = [m for m in registry.student_modules() if m not in sources]
    message = f"missing modules: {', '.join(missing)}" if missing else ""
    return SubmissionResult(
        student=student,
        status=status,
        tests=records,
        max_score=maximum,
        flags=found,
        message=message,
        execution_time=time.monotonic() - started,
        isolation=options.isolation.value,
    )
