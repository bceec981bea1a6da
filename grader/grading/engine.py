"""Grade a whole class: read every submission first, then grade them in parallel, each against
its own sandboxed worker, caching each result the moment it is known.

A submission that cannot be read is that student's problem: it gets status `error` with the
reason, and the others are graded. Only a class that cannot be graded as given stops the run.
"""

from __future__ import annotations

import dataclasses
import gc
import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from grader.grading import cache as result_cache, discovery
from grader.grading.options import GradeOptions
from grader.grading.results import ClassReport, Note, NoteKind, Status, SubmissionResult
from grader.isolation import fork_server, uids

Progress = Callable[[SubmissionResult, bool], None]


@dataclasses.dataclass(frozen=True)
class Job:
    """One submission ready to grade, and its cache key."""

    student: str
    submission: discovery.Submission
    key: str


def prepare(folder: Path, options: GradeOptions, settings: str) -> tuple[list[Job], list[SubmissionResult]]:
    """Discover and read every submission: the jobs to grade, and a result for each one that
    cannot be read. A class that cannot be graded as given raises discovery.ClassError."""
    jobs, unreadable = [], []
    for entry in discovery.discover(folder):
        try:
            submission = discovery.read(entry, options.modules())
        except discovery.SubmissionError as exc:
            unreadable.append(refused(entry.student, exc, options))
            continue
        key = result_cache.submission_key(submission.sources, tuple(submission.skipped.values()), settings)
        jobs.append(Job(entry.student, submission, key))
    return jobs, unreadable


def refused(student: str, problem: discovery.SubmissionError, options: GradeOptions) -> SubmissionResult:
    """The result of a submission that could not be read: status `error`, the reason, no test run."""
    return SubmissionResult(student, Status.ERROR, [], options.max_score(),
                            notes=[Note(NoteKind.UNREADABLE, str(problem))], isolation=options.isolation.value)


def _init_worker(zygote: str) -> None:
    """Each pool process leases its own sandbox uid, forks its workers from the run's one
    zygote, and keeps torch to one thread."""
    uids.for_slot(0)
    fork_server.use(zygote)
    import torch

    torch.set_num_threads(1)
    gc.freeze()  # torch's objects, shared with the template, are never collected: no copy-on-write, a quick exit


def grade_submission(student: str, submission: discovery.Submission, options: GradeOptions) -> SubmissionResult:
    """Grade what could be read of one submission; a module left out makes its status `error`, and
    a fault of the grader becomes that submission's error, not the run's."""
    from grader.grading.runner import grade  # torch and pytest: imported by the grading processes only

    try:
        result = grade(student, submission.sources, options)
    except Exception as exc:  # a fault of the grader, not the student: say so, keep going
        result = SubmissionResult(student, Status.ERROR, [], options.max_score(),
                                  notes=[Note(NoteKind.GRADER_FAULT, f"the grader failed on this submission: "
                                                                    f"{type(exc).__name__}: {exc}")],
                                  isolation=options.isolation.value)
    result.notes[:0] = submission.skipped.values()
    result.missing = [m for m in result.missing if m not in submission.skipped]
    if result.status is Status.GRADED and result.unreadable:
        result.status = Status.ERROR
    return result


def _pooled(job: Job, options: GradeOptions) -> tuple[SubmissionResult, int]:
    """In a pool process: the result, and the uid its workers ran as."""
    return grade_submission(job.student, job.submission, options), uids.for_slot(0)


def grade_class(
    folder: Path,
    options: GradeOptions,
    jobs: int = os.cpu_count() or 1,
    cache: result_cache.ResultCache | None = None,
    progress: Progress | None = None,
) -> ClassReport:
    """Grade every submission in `folder`; results already in `cache` are reused."""
    started = time.monotonic()
    settings = result_cache.settings(options)  # before the run's secret is drawn: see settings()
    options = options.for_run()  # one secret for the whole run: every submission sees the same hidden inputs
    pending, unreadable = prepare(folder, options, settings)
    results: dict[str, SubmissionResult] = {r.student: r for r in unreadable}
    for result in unreadable:
        if progress:
            progress(result, False)
    cached = 0
    for job in list(pending):
        hit = cache.get(job.key, job.student) if cache else None
        if hit is not None:
            pending.remove(job)
            results[job.student], cached = hit, cached + 1
            if progress:
                progress(hit, True)
    used: set[int] = set()
    if pending:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["grader.grading.runner", "torchvision"])  # imported once, shared copy-on-write
        zygote = fork_server.zygote_address(options.isolation)  # started now: it imports torch while the pool does
        with ProcessPoolExecutor(max(1, min(jobs, len(pending))), mp_context=context, initializer=_init_worker,
                                 initargs=(zygote,)) as pool:
            futures = {pool.submit(_pooled, job, options): job for job in pending}
            for future in as_completed(futures):
                job = futures[future]
                result, uid = future.result()
                used.add(uid)
                if cache is not None and result.tests:  # a grader fault is not worth remembering
                    cache.put(job.key, result)
                results[job.student] = result
                if progress:
                    progress(result, False)
    ordered = [results[s] for s in sorted(results)]
    return ClassReport(ordered, options.max_score(), tuple(e.id for e in options.graded()), cached,
                       time.monotonic() - started, tuple(sorted(used)))
