"""The sandboxed worker: imports a submission's modules and runs probes on request.

It runs in a child that the fork server (grader.zygote) forks into a new sandbox for each
submission, in the submission's folder. Everything it replies is an observation: the trusted
grader decides. Student output goes to stdout/stderr, which the grader caps and never parses.
"""

from __future__ import annotations

import importlib.util
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from grader import protocol
from grader.probes import ProbeError, lookup

MESSAGE_LIMIT = 600


class Submission:
    """The student's modules in one folder, imported on first use."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._modules: dict[str, ModuleType | BaseException] = {}

    def module(self, stem: str) -> ModuleType:
        """Import <folder>/<stem>.py once; re-raise its import error on every later use."""
        if stem not in self._modules:
            path = self.folder / f"{stem}.py"
            try:
                if not path.is_file():
                    raise ModuleNotFoundError(f"{stem}.py is missing from the submission")
                spec = importlib.util.spec_from_file_location(stem, path)
                assert spec is not None and spec.loader is not None
                module = importlib.util.module_from_spec(spec)
                sys.modules[stem] = module
                spec.loader.exec_module(module)
                self._modules[stem] = module
            except BaseException as exc:  # noqa: BLE001 - SystemExit at import is a student error too
                sys.modules.pop(stem, None)
                self._modules[stem] = exc
        found = self._modules[stem]
        if isinstance(found, BaseException):
            raise ImportFailed(stem, found)
        return found


class ImportFailed(Exception):
    """A student module failed to import."""

    def __init__(self, stem: str, cause: BaseException) -> None:
        super().__init__(stem, cause)
        self.stem = stem
        self.cause = cause


def describe(exc: BaseException, folder: Path) -> dict[str, Any]:
    """Plain-data account of a failure: type, message, where in the student's code, not-started."""
    cause = exc.cause if isinstance(exc, ImportFailed) else exc
    frames = traceback.extract_tb(cause.__traceback__)
    student = [f for f in frames if Path(f.filename).parent == folder]
    where = f"{Path(student[-1].filename).name}:{student[-1].lineno} in {student[-1].name}" if student else ""
    if isinstance(cause, SyntaxError) and cause.filename and Path(cause.filename).parent == folder:
        where = f"{Path(cause.filename).name}:{cause.lineno}"
    return {
        "type": type(cause).__name__,
        "message": str(cause)[:MESSAGE_LIMIT],
        "where": where,
        "import_error": isinstance(exc, ImportFailed),
        "not_started": isinstance(cause, NotImplementedError) and bool(student),
        "probe_error": isinstance(cause, ProbeError),
    }


def serve(submission: Submission, requests: Any, replies: Any) -> None:
    """Answer probe requests until the grader closes the channel."""
    while True:
        try:
            request = protocol.read_message(requests)
        except protocol.ChannelClosed:
            return
        reply: dict[str, Any] = {"id": request.get("id")}
        try:
            fn = lookup(str(request["probe"]))
            torch.manual_seed(int(request.get("seed", 0)))
            torch.set_grad_enabled(True)
            reply["value"] = fn(submission, **request.get("args", {}))
            reply["ok"] = True
        except BaseException as exc:  # noqa: BLE001 - every student failure becomes an observation
            reply = {"id": request.get("id"), "ok": False, "error": describe(exc, submission.folder)}
        try:
            frame = protocol.encode(reply)
        except Exception as exc:  # noqa: BLE001 - an observation that cannot travel is a student error
            frame = protocol.encode({"id": request.get("id"), "ok": False, "error": {
                "type": type(exc).__name__, "message": f"the result cannot be sent back: {exc}"[:MESSAGE_LIMIT]}})
        replies.write(frame)
        replies.flush()


