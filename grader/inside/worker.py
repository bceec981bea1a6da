"""The sandboxed worker: imports a submission's modules and runs the grader's scenarios on them.

It runs in a child that the fork server (grader.inside.zygote) forks into a new sandbox for each
submission, in the submission's folder. Everything it replies is raw material (values, graphs,
states): the trusted grader decides. Student output goes to stdout/stderr, which the grader caps
and never parses.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from grader.inside import protocol
from grader.inside.failures import MESSAGE_LIMIT, ImportFailed, describe
from grader.inside.interpreter import Scenario, StepFailed


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
                if not stem.isidentifier() or not path.is_file():
                    raise ModuleNotFoundError(f"{stem}.py is missing from the submission")
                spec = importlib.util.spec_from_file_location(stem, path)
                assert spec is not None and spec.loader is not None
                module = importlib.util.module_from_spec(spec)
                sys.modules[stem] = module
                spec.loader.exec_module(module)
                self._modules[stem] = module
            except BaseException as exc:  # SystemExit at import is a student error too
                sys.modules.pop(stem, None)
                self._modules[stem] = exc
        found = self._modules[stem]
        if isinstance(found, BaseException):
            raise ImportFailed(stem, found)
        return found


def answer(submission: Any, request: dict[str, Any], folder: Path, notebook: bool = False) -> dict[str, Any]:
    """Run one request's scenario; the reply carries every step's reading, or the failing step.
    (`notebook`: the student's code may also be a notebook kernel's cells.)"""
    reply: dict[str, Any] = {"id": request.get("id")}
    torch.manual_seed(int(request.get("seed", 0)))
    torch.set_grad_enabled(True)
    try:
        scenario = Scenario(submission, lambda exc: describe(exc, folder, notebook))
        reply["results"] = scenario.run(request["steps"])
        reply["ok"] = True
    except StepFailed as failed:
        reply.update(ok=False, step=failed.step, results=failed.results, error=describe(failed.cause, folder, notebook))
    except BaseException as exc:  # every student failure becomes an observation
        reply.update(ok=False, error=describe(exc, folder, notebook))
    return reply


def serve(submission: Submission, requests: Any, replies: Any) -> None:
    """Answer requests until the grader closes the channel."""
    while True:
        try:
            request = protocol.read_message(requests)
        except protocol.ChannelClosed:
            return
        reply = answer(submission, request, submission.folder)
        try:
            frame = protocol.encode(reply)
        except Exception as exc:  # a reading that cannot travel is the student's problem
            frame = protocol.encode({"id": request.get("id"), "ok": False, "error": {
                "type": type(exc).__name__, "message": f"the result cannot be sent back: {exc}"[:MESSAGE_LIMIT]}})
        replies.write(frame)
        replies.flush()
