"""`grader gradescope ...`: build an autograder bundle, and the command it runs on Gradescope."""

from __future__ import annotations

from pathlib import Path

import typer

from grader import gradescope_bundle

app = typer.Typer(help="Gradescope autograder bundles.", no_args_is_help=True)


@app.command("build")
def build_command(out: Path = typer.Argument(..., help="The bundle to write, e.g. autograder.zip.")) -> None:
    """Build an autograder zip (setup.sh, run_autograder and the kit) to upload to Gradescope."""
    names = gradescope_bundle.build(out)
    typer.echo(f"wrote {out} ({len(names)} files)")


@app.command("run")
def run_command(
    root: Path = typer.Option(Path("/autograder"), "--root", help="Gradescope's autograder folder."),
    sandbox_mode: str = typer.Option("auto", "--sandbox", help="auto|bwrap|none."),
) -> None:
    """Grade ROOT/submission and write ROOT/results/results.json (what run_autograder calls)."""
    if not (root / "submission").is_dir():
        typer.echo(f"error: {root / 'submission'} does not exist", err=True)
        raise typer.Exit(2)
    document = gradescope_bundle.run(root, sandbox_mode)
    typer.echo(f"score {document['score']:g}; wrote {root / 'results' / 'results.json'}")
