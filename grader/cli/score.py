"""`grader score`: grade a class with the hidden suites and write the gradebooks."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from grader.authoring import example_class
from grader.cli import nbgrader as cli_nbgrader, options as shared
from grader.cli.errors import EXIT_UNREADABLE, console, fail, out
from grader.grading import discovery
from grader.grading.cache import ResultCache
from grader.grading.engine import grade_class
from grader.grading.options import GradeOptions
from grader.grading.results import ClassReport, SubmissionResult
from grader.grading.secret import new_secret
from grader.writers import csv_out, feedback, gradescope, html_report, json_out


def summary_table(report: ClassReport) -> Table:
    """Student, score, max and the score per exercise."""
    table = Table(title=f"Grades ({len(report.results)} submissions, {report.cached} from cache)")
    table.add_column("student")
    table.add_column("status")
    table.add_column("score", justify="right")
    table.add_column("max", justify="right")
    for exercise in report.exercises:
        table.add_column(exercise, justify="right")
    table.add_column("flags")
    for r in report.results:
        scores = r.exercise_scores()
        table.add_row(r.student, r.status.value, f"{r.score:g}", f"{report.max_score:g}",
                      *[f"{scores.get(e, {}).get('score', 0):g}" for e in report.exercises],
                      str(len(r.flags)) if r.flags else "")
    return table


def score(
    submissions: Path | None = typer.Argument(None, help="Class folder: one folder or .zip per student. "
                                                 "Default: the bundled example class."),
    json_path: Path | None = typer.Option(None, "--json", help="Write the full results as JSON."),
    csv_path: Path | None = typer.Option(None, "--csv", help="Write a CSV gradebook."),
    gradescope_dir: Path | None = typer.Option(None, "--gradescope", help="Write <dir>/<student>/results.json."),
    report_path: Path | None = typer.Option(None, "--report",
                                            help="Write the instructor's class report (one HTML file)."),
    feedback_dir: Path | None = typer.Option(None, "--feedback", help="Write <dir>/<student>.html: each "
                                                "student's own page (scores, failed checks, hints, what next)."),
    jobs: int = typer.Option(os.cpu_count() or 1, "--jobs", "-j", min=1, help="Submissions graded at once."),
    timeout: float = typer.Option(900.0, "--timeout", min=1, help="Seconds allowed per submission."),
    test_timeout: float = typer.Option(60.0, "--test-timeout", min=1,
                                       help="Seconds allowed per check (training checks ask for more)."),
    sandbox_mode: str = typer.Option("auto", "--sandbox", help=shared.SANDBOX_HELP),
    seed: int | None = typer.Option(None, "--seed", help="Draw the hidden inputs from this seed, to reproduce "
                                       "a run (default: a fresh secret each run)."),
    exercise: list[str] = typer.Option([], "--exercise", "-e", help=shared.EXERCISE_HELP),
    cache_dir: Path = typer.Option(Path(".gradecache"), "--cache", help="Folder of cached results (resume)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Grade everything again."),
    nbgrader_course: Path | None = typer.Option(None, "--nbgrader", help="Grade this nbgrader course's "
                                                   "submitted/*/NAME notebooks (SUBMISSIONS is not used)."),
    assignment: str | None = typer.Option(None, "--assignment", help="The nbgrader assignment (with --nbgrader)."),
) -> None:
    """Grade every submission with the hidden suites, in parallel, each in its own sandbox."""
    isolation = shared.isolation(sandbox_mode)
    prepared = cli_nbgrader.prepare_for_score(nbgrader_course, assignment) if nbgrader_course else None
    if prepared is not None:
        submissions, exercise = prepared.folder, exercise or list(prepared.exercises)
    if submissions is None:
        submissions = example_class.build(Path(tempfile.mkdtemp(prefix="cnnkit-example-")) / "class")
        console.print(f"Grading the bundled example class ({submissions})")
    options = GradeOptions(isolation=isolation, timeout=timeout, call_timeout=test_timeout,
                           exercises=shared.exercises(exercise), secret=None if seed is None else new_secret(seed))
    cache = None if no_cache else ResultCache(cache_dir)
    try:
        total = len(discovery.discover(submissions))
    except discovery.ClassError as exc:
        fail(str(exc))
    with Progress(TextColumn("[bold]grading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.description}"), console=console, transient=True) as bar:
        task = bar.add_task("", total=total)

        def advance(result: SubmissionResult, cached: bool) -> None:
            bar.update(task, advance=1,
                       description=f"{result.student}: {result.score:g}{' (cached)' if cached else ''}")

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
                         (report_path, html_report.write), (feedback_dir, feedback.write)):
        if path is not None:
            writer(path, report)
            out.print(f"wrote {path}")
    out.print(f"{len(report.results)} submissions in {report.elapsed:.1f} s")
    if report.unreadable:
        fail(f"{len(report.unreadable)} of {len(report.results)} submissions could not be read (status error, the "
             f"reason in every gradebook): {', '.join(r.student for r in report.unreadable)}", EXIT_UNREADABLE)
