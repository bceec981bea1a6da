"""Run one hidden test from a notebook cell, for nbgrader's own autograde path.

An exported notebook's autograder cells end with::

    ### BEGIN HIDDEN TESTS
    from grader.integrations.nbgrader_kernel import run_hidden; run_hidden("lenet", "test_lenet_softmax", globals())
    ### END HIDDEN TESTS

run_hidden collects that one item of grader/exercises/<exercise>/test_hidden.py and runs it with a
`submission` fixture whose scenarios run IN THIS PROCESS against the notebook's namespace. That is
nbgrader's usual model (the kernel runs student code and tests together, unsandboxed), and it
cannot hold the kit's trust rule: the student's code shares the process that judges it. The
sandboxed path for notebooks, where every verdict is the grader's own, is `grader score --nbgrader`.
A failing test raises an AssertionError with the gradebook's message, so nbgrader scores the cell 0.
"""

from __future__ import annotations

import io
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from grader import registry
from grader.grading import suite
from grader.grading.results import Outcome, TestRecord
from grader.inside import protocol, worker
from grader.inside.worker import Submission
from grader.isolation.remote import StudentError


class NamespaceModule:
    """A namespace seen as a module: attributes read and write the namespace itself, as a module's do."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        self.__dict__ = namespace


class LocalSubmission:
    """The worker's side of the channel, in process: `run` runs a scenario on the namespaces.

    Observations go through the channel's encoding and back, so the hidden tests see exactly
    the plain data and fresh tensors a sandboxed worker would send (tuples become lists, ...).
    """

    def __init__(self, namespaces: dict[str, dict[str, Any]], folder: Path | None = None, threads: int = 1) -> None:
        self.modules: dict[str, Any] = {stem: NamespaceModule(ns) for stem, ns in namespaces.items()}
        self.files = Submission(Path(folder or Path.cwd()))
        self.threads = threads

    def module(self, stem: str) -> ModuleType | Any:
        """The notebook's namespace for `stem`, else <folder>/<stem>.py as the worker imports it."""
        return self.modules[stem] if stem in self.modules else self.files.module(stem)

    def run(self, exercise: str, steps: list[dict[str, Any]], seed: int = 0, timeout: float | None = None) -> list[Any]:
        """Run a scenario as the worker does (same seed, grad mode on, thread count); raise StudentError."""
        del exercise, timeout  # the cell's own timeout (nbgrader's Execute.timeout) bounds the run
        return list(self._answer({"steps": steps, "seed": seed}).get("results") or [])

    def _answer(self, request: dict[str, Any]) -> dict[str, Any]:
        threads = torch.get_num_threads()
        torch.set_num_threads(self.threads)  # the worker's thread count: the same floating-point sums
        try:
            reply: dict[str, Any] = worker.answer(self, request, self.files.folder, notebook=True)
            try:  # through the channel's encoding and back: the same plain data a worker would send
                reply = protocol.read_message(io.BytesIO(protocol.encode(reply)))
            except protocol.ProtocolError as exc:
                raise StudentError({"type": "ProtocolError", "message": str(exc)}) from None
        finally:
            torch.set_num_threads(threads)
        if not reply.get("ok"):
            raise StudentError(reply.get("error") or {}, step=reply.get("step"), results=reply.get("results"))
        return reply


def run_hidden_test(exercise: str, test: str, submission: Any) -> TestRecord:
    """Run the hidden item `test` (e.g. "test_net_any_batch_size[7]") of one exercise's suite."""
    if not suite.suite_file(exercise).is_file():
        raise LookupError(f"there is no hidden suite for {exercise!r}")
    records = suite.run(submission, (exercise,), only={test}).records
    if not records:
        raise LookupError(f"the hidden suite of {exercise} has no test {test!r}")
    return records[0]


def run_hidden(exercise: str, test: str, namespace: dict[str, Any]) -> None:
    """Run one hidden test against the notebook's namespace (pass globals()); fail like the gradebook."""
    stem = registry.by_id(exercise).stem
    record = run_hidden_test(exercise, test, LocalSubmission({stem: namespace}))
    if record.score < record.max_score or record.outcome is not Outcome.PASSED:
        raise AssertionError(f"{test}: {record.output or record.outcome.value}") from None
