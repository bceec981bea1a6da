"""`grader stubs`, `grader check` and `grader release`: keeping the kit itself in order."""

from __future__ import annotations

from pathlib import Path

import typer

from grader.authoring import release, selfcheck, stubs
from grader.cli import options as shared
from grader.cli.errors import EXIT_CHECK_FAILED, fail, out
from grader.grading.options import GradeOptions


def stubs_command(check: bool = typer.Option(False, "--check", help="Only report stubs out of sync.")) -> None:
    """Regenerate exercises/<module>.py from solutions/ (or check they are in sync)."""
    try:
        if check:
            drift = stubs.check_stubs()
            for d in drift:
                out.print(f"{d.module}: {d.reason}")
            if drift:
                fail(f"{len(drift)} stub(s) out of sync: run `grader stubs`", EXIT_CHECK_FAILED)
            out.print("stubs are in sync with solutions/")
            return
        changed = stubs.write_stubs()
    except (OSError, stubs.RegionError) as exc:
        fail(str(exc))
    out.print(f"regenerated: {', '.join(changed) or 'nothing (already in sync)'}")


def check_command(
    sandbox_mode: str = typer.Option("auto", "--sandbox", help=shared.SANDBOX_HELP),
    exercise: list[str] = typer.Option([], "--exercise", "-e", help="Check only these exercises (repeatable)."),
) -> None:
    """Prove the solutions score full marks and the stubs zero, through the grading path."""
    options = GradeOptions(isolation=shared.isolation(sandbox_mode), exercises=shared.exercises(exercise))
    result = selfcheck.run(options)
    for r in (result.solutions, result.stubs):
        out.print(f"{r.student}: {r.score:g} / {r.max_score:g} ({r.status.value}, {r.execution_time:.1f} s)")
        for t in r.tests:
            if (r is result.solutions) != (t.score == t.max_score):
                out.print(f"  [red]{t.exercise}::{t.name}[/] {t.outcome.value}: {t.output}", highlight=False)
    if not result.ok:
        fail("the hidden suite does not separate the solutions from the stubs", EXIT_CHECK_FAILED)
    out.print("[green]ok[/]: solutions score full marks, stubs score zero")


def release_command(target: Path = typer.Argument(..., help="New folder for the student copy.")) -> None:
    """Build the student copy: stubs, visible checks, data, README. No solutions, no hidden suites."""
    try:
        files = release.build(target)
    except (release.ReleaseError, OSError) as exc:
        fail(str(exc))
    found = release.leaks(target)
    if found:
        fail(f"the release leaks {len(found)} secret(s), first: {found[0]}", EXIT_CHECK_FAILED)
    out.print(f"wrote {len(files)} files to {target}; no solution or hidden-test text in it")
