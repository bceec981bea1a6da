"""Grade one submission: copy its modules into a fresh folder, run the hidden suite here, in
the trusted process, against a sandboxed worker that runs the student's code.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from grader.grading import relabel, static_flags as flags, suite
from grader import registry
from grader.isolation import sandbox
from grader.isolation.remote import Worker
from grader.grading.options import GradeOptions
from grader.grading.results import Outcome, Status, SubmissionResult


def grade(student: str, sources: dict[str, bytes], options: GradeOptions = GradeOptions(), slot: int = 0) -> SubmissionResult:
    """Grade one student's modules (file name -> bytes, registry modules only)."""
    started = time.monotonic()
    options = options.for_run()
    found = [f for name, src in sources.items() for f in flags.scan(src.decode("utf-8", "replace"), name)]
    base = Path(tempfile.mkdtemp(prefix="cnnkit-"))
    workdir = base / "sub"
    workdir.mkdir()
    for name in registry.student_modules():
        if name in sources:
            (workdir / name).write_bytes(sources[name])
    worker = Worker(workdir, options.isolation, slot=slot, limits=options.limits,
                    deadline=started + options.timeout, threads=options.threads,
                    call_timeout=options.call_timeout, data=options.data)
    try:
        outcome = suite.run(worker, options.exercises, options.keyword, secret=options.secret,
                            labels=relabel.permutation(options.secret), suites=options.suites)
        records, maximum = outcome.records, outcome.max_score
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

