"""`grader nbgrader …`: the exercises as an nbgrader course. (Grading a course's submissions is
`grader score --nbgrader COURSE_DIR --assignment NAME`.)"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from grader.cli.errors import EXIT_CHECK_FAILED, console, fail, out, warn

if TYPE_CHECKING:  # nbformat and nbgrader take seconds to import: only the commands that need them do
    from grader.grading.results import ClassReport
    from grader.integrations import nbgrader_grade

app = typer.Typer(help="nbgrader courses: export the exercises as an assignment.", no_args_is_help=True)


@app.command("export")
def export_command(
    course: Path = typer.Argument(..., help="The nbgrader course folder (created if needed)."),
    assignment: str = typer.Option(..., "--assignment", "-a", help="Assignment name: writes source/NAME/."),
    exercise: list[str] = typer.Option([], "--exercise", "-e", help="Only these exercises (repeatable; default all)."),
    course_id: str = typer.Option("cnn-kit", "--course-id", help="CourseDirectory.course_id, if the config lacks one."),
) -> None:
    """Write one notebook per exercise (solutions, autograder cells with hidden tests) into source/NAME/."""
    from grader.integrations import nbgrader_export

    try:
        result = nbgrader_export.export(course, assignment, tuple(exercise), course_id)
    except (nbgrader_export.ExportError, OSError) as exc:
        fail(str(exc))
    for warning in result.warnings:
        warn(warning)
    total = sum(result.points.values())
    out.print(f"wrote {len(result.notebooks)} notebook(s), {total:g} points, to {result.folder}")
    out.print(f"{result.config} {'updated' if result.config_changed else 'already complete'}")
    bin_dir = Path(sys.executable).parent  # nbgrader runs `alembic` from PATH when it creates the gradebook
    out.print(f"next: cd {course} && PATH={bin_dir}:$PATH nbgrader generate_assignment {assignment}", highlight=False)


def prepare_for_score(course: Path, assignment: str | None) -> nbgrader_grade.PreparedClass:
    """`grader score --nbgrader`: the course's submissions as a class folder (or a one-line error)."""
    from grader.integrations import nbgrader_grade

    if not assignment:
        fail("--nbgrader needs --assignment NAME")
    try:
        prepared = nbgrader_grade.prepare(course, assignment, Path(tempfile.mkdtemp(prefix="cnnkit-nbgrader-")))
    except (nbgrader_grade.NbgraderError, OSError) as exc:
        fail(str(exc))
    console.print(f"Grading {len(prepared.submitted)} nbgrader submission(s) of {assignment} "
                  f"({', '.join(prepared.exercises)})", highlight=False)
    for warning in prepared.warnings:
        warn(warning)
    return prepared


def finish_score(report: ClassReport, prepared: nbgrader_grade.PreparedClass) -> None:
    """Add the notebooks' notes to the results and write the scores into nbgrader's gradebook."""
    from grader.integrations import nbgrader_grade

    nbgrader_grade.annotate(report, prepared)
    shutil.rmtree(prepared.folder, ignore_errors=True)
    for student in sorted(prepared.notes):
        if prepared.status(student) != "ok":
            out.print(f"[yellow]notebook[/] {student}: {prepared.status(student)}", highlight=False)
    try:
        written = nbgrader_grade.write_gradebook(report, prepared)
    except Exception as exc:  # the database is nbgrader's: report its failure in one line
        fail(f"writing the gradebook failed: {type(exc).__name__}: {exc}", EXIT_CHECK_FAILED)
    out.print(f"wrote {len(written)} submission(s) into the gradebook {prepared.db_url}", highlight=False)
