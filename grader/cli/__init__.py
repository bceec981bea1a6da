"""The `grader` command: a thin Typer shell over the library.

Each command parses its options, calls the library and prints; errors are one line with the
exit codes of grader.cli.errors.
"""

from __future__ import annotations

import typer

from grader.cli import authoring, gradescope, nbgrader, score
from grader.cli.errors import EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_UNAVAILABLE, EXIT_UNREADABLE

__all__ = ["EXIT_BAD_INPUT", "EXIT_CHECK_FAILED", "EXIT_UNAVAILABLE", "EXIT_UNREADABLE", "app"]

app = typer.Typer(help="Grade CNN exercise submissions, build releases and bundles.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
app.command("score")(score.score)
app.command("stubs")(authoring.stubs_command)
app.command("check")(authoring.check_command)
app.command("release")(authoring.release_command)
app.add_typer(nbgrader.app, name="nbgrader")
app.add_typer(gradescope.app, name="gradescope")
