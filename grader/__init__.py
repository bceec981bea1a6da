"""The CNN kit's grading engine: a library with a thin Typer CLI on top (grader.cli)."""
