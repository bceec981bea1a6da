"""The CLI's one way to speak: one-line errors with documented exit codes, warnings, results."""

from __future__ import annotations

import sys
from typing import NoReturn

import typer
from rich.console import Console

EXIT_OK = 0
EXIT_CHECK_FAILED = 1  # a check of the kit failed (`check`, `stubs --check`, a leaking release)
EXIT_BAD_INPUT = 2  # bad input: nothing was written
EXIT_UNAVAILABLE = 3  # no sandbox available
EXIT_UNREADABLE = 4  # graded and written, but some submissions could not be read (status error)

console = Console(stderr=True)
out = Console() if sys.stdout.isatty() else Console(width=200)  # logs and pipes get the whole table


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """Print a one-line error and exit with `code`."""
    console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def warn(message: str) -> None:
    """Print a one-line warning."""
    console.print(f"[bold yellow]warning:[/] {message}", highlight=False, soft_wrap=True)
