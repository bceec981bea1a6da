"""Grade a whole class: validate every submission first, then grade them in parallel, each
against its own sandboxed worker, caching each result the moment it is known."""

from __future__ import annotations

import gc
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from grader.grading import discovery
from grader.isolation import fork_server
from grader import registry
from grader.grading.cache import ResultCache, submission_key
from grader.grading.results import Status, SubmissionResult
from grader.grading.options import GradeOptions

Progress = Callable[[SubmissionResult, bool], None]


@dataclass
class ClassReport:
    """Every submission's result, in student order, with how the run went."""

    results: list[SubmissionResult]
    max_score: float
    cached: int
    elapsed: float


@dataclass(frozen=True)
class Job:
    """One submission ready to grade."""

    student: str
    sources: dict[str, bytes]
    key: str
    notes: tuple[str, ...]


def prepare(folder: Path, settings: str) -> list[Job]:
    """Discover and read every submission; any malformed entry stops the run before grading."""
    jobs = []
    for entry in discovery.discover(folder):
        sources = discovery.read_sources(entry)
        notes = tuple(f"{name} is not UTF-8 text, so it cannot be imported" for name in discovery.non_utf8(sources))
        jobs.append(Job(entry.student, sources, submission_key(sources, settings), notes))
    return jobs


_SLOT = 0


def _init_worker(slots: "multiprocessing.Queue[int]", zygote: str) -> None:
    """Each pool process takes a slot (its own sandbox uid), forks its workers from the run's one
    zygote, and keeps torch to one thread."""
    global _SLOT
    _SLOT = slots.get()
    fork_server.use(zygote)
    import torch

    torch.set_num_threads(1)
    gc.freeze()  # torch's objects, shared with the template, are never collected: no copy-on-write, a quick exit


def _grade_job(job: Job, options: GradeOptions) -> SubmissionResult:
    from grader.grading.runner import grade  # torch and pytest: imported by the grading processes only

    try:
        result = grade(job.student, job.sources, options, slot=_SLOT)
    except Exception as exc:  # a fault of the grader, not the student: say so, keep going
        result = SubmissionResult(job.student, Status.ERROR, [], registry.max_points(),
                                  message=f"the grader failed on this submission: {type(exc).__name__}: {exc}")
    if job.notes:
        result.message = "; ".join(filter(None, [result.message, *job.notes]))
    return result


def grade_class(
    folder: Path,
    options: GradeOptions,
    jobs: int = os.cpu_count() or 1,
    cache: ResultCache | None = None,
    progress: Progress | None = None,
) -> ClassReport:
    """Grade every submission in `folder`; results already in `cache` are reused."""
    started = time.monotonic()
    options = options.for_run()  # one secret for the whole run: every submission sees the same hidden inputs
    settings = f"{options.isolation.value}|{options.timeout}|{options.call_timeout}|{options.limits}|{options.exercises}"
    pending: list[Job] = []
    results: dict[str, SubmissionResult] = {}
    for job in prepare(folder, settings):
        hit = cache.get(job.key, job.student) if cache else None
        if hit is not None:
            results[job.student] = hit
            if progress:
                progress(hit, True)
        else:
            pending.append(job)
    cached = len(results)
    if pending:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["grader.grading.runner", "torchvision"])  # imported once, shared copy-on-write
        slots = context.Queue()
        workers = max(1, min(jobs, len(pending)))
        for slot in range(workers):
            slots.put(slot)
        zygote = fork_server.zygote_address()  # started now: it imports torch while the pool does
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                                 initargs=(slots, zygote)) as pool:
            futures = {pool.submit(_grade_job, job, options): job for job in pending}
            for future in as_completed(futures):
                job = futures[future]
                result = future.result()
                if cache is not None and result.tests:  # a grader fault is not worth remembering
                    cache.put(job.key, result)
                results[job.student] = result
                if progress:
                    progress(result, False)
    ordered = [results[s] for s in sorted(results)]
    maximum = sum(registry.by_id(e).points for e in options.exercises) if options.exercises else registry.max_points()
    return ClassReport(ordered, maximum, cached, time.monotonic() - started)
