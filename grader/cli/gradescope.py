"""`grader gradescope ...`: build an autograder bundle, and the command it runs on Gradescope."""

from __future__ import annotations

from pathlib import Path

import typer

from grader.cli.errors import fail, out
from grader.integrations import gradescope_bundle

app = typer.Typer(help="Gradescope autograder bundles.", no_args_is_help=True)


@app.command("build")
def build_command(target: Path = typer.Argument(..., help="The bundle to write, e.g. autograder.zip.")) -> None:
    """Build an autograder zip (setup.sh, run_autograder and the kit) to upload to Gradescope."""
    try:
        names = gradescope_bundle.build(target)
    except OSError as exc:
        fail(f"cannot write {target}: {exc}")
    out.print(f"wrote {target} ({len(names)} files)", highlight=False)


@app.command("run")
def run_command(
    root: Path = typer.Option(Path("/autograder"), "--root", help="Gradescope's autograder folder."),
    sandbox_mode: str = typer.Option("auto", "--sandbox", help="auto|bwrap|none."),
) -> None:
    """Grade ROOT/submission and write ROOT/results/results.json (what run_autograder calls)."""
    if not (root / "submission").is_dir():
        fail(f"{root / 'submission'} does not exist")
    document = gradescope_bundle.run(root, sandbox_mode)
    out.print(f"score {document['score']:g}; wrote {root / 'results' / 'results.json'}", highlight=False)
