"""Grade one submission: copy its modules into a fresh folder, run the hidden suite here, in
the trusted process, against a sandboxed worker that runs the student's code, and say which
quotas its workers ran into.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from grader.grading import graphs, relabel, static_flags as flags, suite
from grader.grading.options import GradeOptions
from grader.grading.results import Note, NoteKind, Outcome, Status, SubmissionResult
from grader.isolation import fork_server, sandbox
from grader.isolation.remote import RemoteSubmission

GRAPH_BUDGET_S = 300.0  # the grader's own time for running one submission's exported graphs


def grade(student: str, sources: dict[str, bytes], options: GradeOptions = GradeOptions(),
          slot: int = 0) -> SubmissionResult:
    """Grade one student's modules (file name -> bytes; only the graded exercises' modules are used)."""
    started = time.monotonic()
    options = options.for_run()
    secret = options.secret
    assert secret is not None  # for_run draws one
    found = [f for name, src in sources.items() for f in flags.scan(src.decode("utf-8", "replace"), name)]
    base = Path(tempfile.mkdtemp(prefix="cnnkit-"))
    workdir = base / "sub"
    workdir.mkdir()
    for name in options.modules():
        if name in sources:
            (workdir / name).write_bytes(sources[name])
    fork_server.set_quota(options.quota)
    worker = RemoteSubmission(workdir, options.isolation, slot=slot, limits=options.limits,
                    deadline=started + options.timeout, threads=options.threads,
                    call_timeout=options.call_timeout, data=options.data)
    try:
        with graphs.submission_budget(GRAPH_BUDGET_S):
            outcome = suite.run(worker, options.exercises, options.keyword, secret=secret,
                                labels=relabel.permutation(secret), suites=options.suites)
        records, maximum = outcome.records, outcome.max_score
    finally:
        worker.stop()
        shutil.rmtree(base, ignore_errors=True)
    incidents = fork_server.for_slot(options.isolation, worker.uid, options.limits, options.threads).take_incidents()
    stats = worker.stats
    if any(r.outcome is Outcome.TIMEOUT for r in records):
        status = Status.TIMEOUT
    elif stats.crashes or incidents:
        status = Status.ERROR
    else:
        status = Status.GRADED
    found += [f"runtime: {event}" for event in dict.fromkeys(stats.events)]
    if stats.output_bytes >= options.limits.file_bytes:
        found.append("runtime: printed more output than the cap allows")
    found += [f"runtime: ran into its {incident.value} quota" for incident in incidents]
    if options.isolation is sandbox.Isolation.NONE:
        found.append("unsandboxed: graded without isolation (--sandbox none)")
    return SubmissionResult(
        student=student,
        status=status,
        tests=records,
        max_score=maximum,
        flags=found,
        missing=[m for m in options.modules() if m not in sources],
        notes=[Note(NoteKind.QUOTA, incident.describe(options.quota)) for incident in incidents],
        execution_time=time.monotonic() - started,
        isolation=options.isolation.value,
    )

