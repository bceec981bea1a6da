"""How a failure of the student's code is told to the grader: plain data, never the exception."""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any

MESSAGE_LIMIT = 600


class ImportFailed(Exception):
    """A student module failed to import."""

    def __init__(self, stem: str, cause: BaseException) -> None:
        super().__init__(stem, cause)
        self.stem = stem
        self.cause = cause


class KitError(Exception):
    """The student's code does not fit what the check needs (the message says what to change)."""


def describe(exc: BaseException, folder: Path, notebook: bool = False) -> dict[str, Any]:
    """Plain-data account of a failure: type, message, where in the student's code, not-started.

    The student's code is the modules in `folder`, and with `notebook` the cells of a notebook
    kernel too (their code objects are named <ipython-input-...> or .../ipykernel_.../...)."""

    def mine(filename: str) -> bool:
        return Path(filename).parent == folder or (notebook and ("ipykernel" in filename or filename.startswith("<")))

    cause = exc.cause if isinstance(exc, ImportFailed) else exc
    frames = traceback.extract_tb(cause.__traceback__)
    student = [f for f in frames if mine(f.filename)]
    where = f"{Path(student[-1].filename).name}:{student[-1].lineno} in {student[-1].name}" if student else ""
    if isinstance(cause, SyntaxError) and cause.filename and mine(cause.filename):
        where = f"{Path(cause.filename).name}:{cause.lineno}"
    return {
        "type": type(cause).__name__,
        "message": str(cause)[:MESSAGE_LIMIT],
        "where": where,
        "import_error": isinstance(exc, ImportFailed),
        "not_started": isinstance(cause, NotImplementedError) and bool(student),
        "kit_error": isinstance(cause, KitError),
    }
