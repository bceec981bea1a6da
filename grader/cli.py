"""The `grader` command: a thin Typer shell over the library. Errors become one line and an exit code."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from grader import discovery, example_class, registry, release, sandbox, selfcheck, stubs
from grader.cache import ResultCache
from grader.engine import ClassReport, grade_class
from grader.options import GradeOptions
from grader.writers import csv_out, gradescope, html_report, json_out
from grader import cli_gradescope, cli_nbgrader

app = typer.Typer(help="Grade CNN exercise submissions, build releases and bundles.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
app.add_typer(cli_nbgrader.app, name="nbgrader")
app.add_typer(cli_gradescope.app, name="gradescope")
console = Console(stderr=True)
out = Console() if sys.stdout.isatty() else Console(width=200)  # logs and pipes get the whole table

EXIT_BAD_INPUT = 2
EXIT_UNAVAILABLE = 3


def fail(message: str, code: int = EXIT_BAD_INPUT) -> None:
    """Print a one-line error and exit."""
    console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def summary_table(report: ClassReport) -> Table:
    """Student, score, max and the score per exercise."""
    exercises = registry.load()
    table = Table(title=f"Grades ({len(report.results)} submissions, {report.cached} from cache)")
    table.add_column("student")
    table.add_column("status")
    table.add_column("score", justify="right")
    table.add_column("max", justify="right")
    for e in exercises:
        table.add_column(e.id, justify="right")
    table.add_column("flags")
    for r in report.results:
        scores = r.exercise_scores()
        table.add_row(r.student, r.status.value, f"{r.score:g}", f"{report.max_score:g}",
                      *[f"{scores.get(e.id, {}).get('score', 0):g}" for e in exercises],
                      str(len(r.flags)) if r.flags else "")
    return table


@app.command()
def score(
    submissions: Optional[Path] = typer.Argument(None, help="Class folder: one folder or .zip per student. "
                                                 "Default: the bundled example class."),
    json_path: Optional[Path] = typer.Option(None, "--json", help="Write the full results as JSON."),
    csv_path: Optional[Path] = typer.Option(None, "--csv", help="Write a CSV gradebook."),
    gradescope_dir: Optional[Path] = typer.Option(None, "--gradescope", help="Write <dir>/<student>/results.json."),
    report_path: Optional[Path] = typer.Option(None, "--report", help="Write the instructor's class report (one HTML file)."),
    jobs: int = typer.Option(os.cpu_count() or 1, "--jobs", "-j", min=1, help="Submissions graded at once."),
    timeout: float = typer.Option(900.0, "--timeout", min=1, help="Seconds allowed per submission."),
    test_timeout: float = typer.Option(60.0, "--test-timeout", min=1,
                                       help="Seconds allowed per check (training checks ask for more)."),
    sandbox_mode: str = typer.Option("auto", "--sandbox", help="auto|bwrap|none (none: no isolation, flagged)."),
    exercise: list[str] = typer.Option([], "--exercise", "-e", help="Grade only these exercises (repeatable)."),
    cache_dir: Path = typer.Option(Path(".gradecache"), "--cache", help="Folder of cached results (resume)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Grade everything again."),
    nbgrader_course: Optional[Path] = typer.Option(None, "--nbgrader", help="Grade this nbgrader course's "
                                                   "submitted/*/NAME notebooks (SUBMISSIONS is not used)."),
    assignment: Optional[str] = typer.Option(None, "--assignment", help="The nbgrader assignment (with --nbgrader)."),
) -> None:
    """Grade every submission with the hidden suites, in parallel, each in its own sandbox."""
    if sandbox_mode not in ("auto", "bwrap", "none"):
        fail(f"--sandbox must be auto, bwrap or none, not {sandbox_mode!r}")
    try:
        isolation = sandbox.choose(sandbox_mode)
    except sandbox.SandboxUnavailable as exc:
        fail(str(exc), EXIT_UNAVAILABLE)
    if isolation is sandbox.Isolation.NONE:
        console.print("[bold yellow]warning:[/] grading WITHOUT a sandbox: student code runs as you.")
    prepared = cli_nbgrader.prepare_for_score(nbgrader_course, assignment) if nbgrader_course else None
    if prepared is not None:
        submissions, exercise = prepared.folder, exercise or list(prepared.exercises)
    if submissions is None:
        submissions = example_class.build(Path(tempfile.mkdtemp(prefix="cnnkit-example-")) / "class")
        console.print(f"Grading the bundled example class ({submissions})")
    known = {e.id for e in registry.load()}
    unknown = [e for e in exercise if e not in known]
    if unknown:
        fail(f"unknown exercise {unknown[0]!r}; choose from {', '.join(sorted(known))}")
    options = GradeOptions(isolation=isolation, timeout=timeout, call_timeout=test_timeout, exercises=tuple(exercise))
    cache = None if no_cache else ResultCache(cache_dir)
    try:
        total = len(discovery.discover(submissions))
    except discovery.ClassError as exc:
        fail(str(exc))
    with Progress(TextColumn("[bold]grading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.description}"), console=console, transient=True) as bar:
        task = bar.add_task("", total=total)

        def advance(result, cached: bool) -> None:
            bar.update(task, advance=1, description=f"{result.student}: {result.score:g}{' (cached)' if cached else ''}")

        try:
            report = grade_class(submissions, options, jobs=jobs, cache=cache, progress=advance)
        except discovery.ClassError as exc:
            fail(str(exc))
    if prepared is not None:
        cli_nbgrader.finish_score(report, prepared)
    out.print(summary_table(report))
    for r in report.results:
        for flag in r.flags:
            out.print(f"[yellow]flag[/] {r.student}: {flag}", highlight=False)
        if r.message:
            out.print(f"[dim]{r.student}: {r.message}[/]", highlight=False)
    for path, writer in ((json_path, json_out.write), (csv_path, csv_out.write), (gradescope_dir, gradescope.write),
                         (report_path, html_report.write)):
        if path is not None:
            writer(path, report)
            out.print(f"wrote {path}")
    out.print(f"{len(report.results)} submissions in {report.elapsed:.1f} s")


@app.command("stubs")
def stubs_command(check: bool = typer.Option(False, "--check", help="Only report stubs out of sync.")) -> None:
    """Regenerate exercises/<module>.py from solutions/ (or check they are in sync)."""
    try:
        if check:
            drift = stubs.check_stubs()
            for d in drift:
                out.print(f"{d.module}: {d.reason}")
            if drift:
                fail(f"{len(drift)} stub(s) out of sync: run `grader stubs`", 1)
            out.print("stubs are in sync with solutions/")
            return
        changed = stubs.write_stubs()
    except (OSError, stubs.RegionError) as exc:
        fail(str(exc))
    out.print(f"regenerated: {', '.join(changed) or 'nothing (already in sync)'}")


@app.command("check")
def check_command(sandbox_mode: str = typer.Option("auto", "--sandbox", help="auto|bwrap|none.")) -> None:
    """Prove the solutions score full marks and the stubs zero, through the grading path."""
    try:
        isolation = sandbox.choose(sandbox_mode)
    except sandbox.SandboxUnavailable as exc:
        fail(str(exc), EXIT_UNAVAILABLE)
    result = selfcheck.run(GradeOptions(isolation=isolation))
    for r in (result.solutions, result.stubs):
        out.print(f"{r.student}: {r.score:g} / {r.max_score:g} ({r.status.value}, {r.execution_time:.1f} s)")
        for t in r.tests:
            if (r is result.solutions) != (t.score == t.max_score):
                out.print(f"  [red]{t.exercise}::{t.name}[/] {t.outcome.value}: {t.output}", highlight=False)
    if not result.ok:
        fail("the hidden suite does not separate the solutions from the stubs", 1)
    out.print("[green]ok[/]: solutions score full marks, stubs score zero")


@app.command("release")
def release_command(target: Path = typer.Argument(..., help="New folder for the student copy.")) -> None:
    """Build the student copy: stubs, visible checks, data, README. No solutions, no hidden suites."""
    try:
        files = release.build(target)
    except (release.ReleaseError, OSError) as exc:
        fail(str(exc))
    found = release.leaks(target)
    if found:
        fail(f"the release leaks {len(found)} secret(s), first: {found[0]}", 1)
    out.print(f"wrote {len(files)} files to {target}; no solution or hidden-test text in it")


if __name__ == "__main__":
    app()
