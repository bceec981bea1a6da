"""`grader gradescope ...`: build an autograder bundle, and the command it runs on Gradescope."""

from __future__ import annotations

from pathlib import Path

import typer

from grader.cli import options as shared
from grader.cli.errors import fail, out
from grader.grading.options import GradeOptions
from grader.integrations import gradescope_bundle
from grader.writers.gradescope import Visibility, VisibilityError

app = typer.Typer(help="Gradescope autograder bundles.", no_args_is_help=True)

VISIBILITY_HELP = ("When students see each hidden check: visible, after_due_date, after_published or hidden; "
                   "EXERCISE=LEVEL for one exercise (repeatable). The total and per-exercise scores stay visible.")

def _visibility(settings: list[str]) -> Visibility:
    try:
        visibility = Visibility.parse(settings)
    except VisibilityError as exc:
        fail(str(exc))
    shared.exercises(list(visibility.exercises))  # EXERCISE=LEVEL names a known exercise
    return visibility


@app.command("build")
def build_command(
    target: Path = typer.Argument(..., help="The bundle to write, e.g. autograder.zip."),
    exercise: list[str] = typer.Option([], "--exercise", "-e", help=shared.EXERCISE_HELP),
    visibility: list[str] = typer.Option([], "--visibility", help=VISIBILITY_HELP),
) -> None:
    """Build an autograder zip (setup.sh, run_autograder and the kit) to upload to Gradescope."""
    try:
        names = gradescope_bundle.build(target, shared.exercises(exercise), _visibility(visibility))
    except gradescope_bundle.BundleError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write {target}: {exc}")
    out.print(f"wrote {target} ({len(names)} files)", highlight=False)


@app.command("run")
def run_command(
    root: Path = typer.Option(Path("/autograder"), "--root", help="Gradescope's autograder folder."),
    sandbox_mode: str = typer.Option("auto", "--sandbox", help=shared.SANDBOX_HELP),
    exercise: list[str] = typer.Option([], "--exercise", "-e", help=shared.EXERCISE_HELP),
    visibility: list[str] = typer.Option([], "--visibility", help=VISIBILITY_HELP),
) -> None:
    """Grade ROOT/submission and write ROOT/results/results.json (what run_autograder calls)."""
    if not (root / "submission").is_dir():
        fail(f"{root / 'submission'} does not exist")
    options = GradeOptions(isolation=shared.isolation(sandbox_mode), exercises=shared.exercises(exercise))
    document = gradescope_bundle.run(root, options, _visibility(visibility))
    out.print(f"score {document['score']:g}; wrote {root / 'results' / 'results.json'}", highlight=False)
