"""Print a bench's figures as an aligned table: what was measured, the figure, how to read it."""

from __future__ import annotations


def print_table(rows: list[tuple[str, str, str]], footer: str) -> None:
    """One row a figure, names padded to the longest and figures right-aligned; then `footer`."""
    name_width = max(len(name) for name, _, _ in rows)
    value_width = max(len(value) for _, value, _ in rows)
    for name, value, note in rows:
        print(f"{name.ljust(name_width)}  {value.rjust(value_width)}  {note}")
    print(footer)
