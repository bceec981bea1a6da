"""Typed records passed from the runner to the writers."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any


class Outcome(str, enum.Enum):
    """How one hidden test ended."""

    PASSED = "passed"
    FAILED = "failed"
    NOT_STARTED = "not_started"
    ERROR = "error"
    TIMEOUT = "timeout"
    SKIPPED = "skipped"


class Status(str, enum.Enum):
    """How grading one submission ended."""

    GRADED = "graded"
    ERROR = "error"
    TIMEOUT = "timeout"


class NoteKind(str, enum.Enum):
    """What a note on a submission is about (not a failed check: something about the submission)."""

    UNREADABLE = "unreadable"  # the submission could not be read: nothing of it was graded
    MODULE_SKIPPED = "module_skipped"  # one module was left out (too large, not source text)
    QUOTA = "quota"  # its worker ran into the disk, file or memory quota
    NOTEBOOK = "notebook"  # nbgrader: a repair made to a notebook before grading
    GRADER_FAULT = "grader_fault"  # the grader itself failed on this submission

    @property
    def unread(self) -> bool:
        """Whether a note of this kind means part or all of the submission could not be read."""
        return self in (NoteKind.UNREADABLE, NoteKind.MODULE_SKIPPED)


@dataclass(frozen=True)
class Note:
    """One thing a reader of the gradebook should know about a submission, in one line."""

    kind: NoteKind
    text: str

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind.value, "text": self.text}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Note:
        return cls(NoteKind(data["kind"]), str(data["text"]))


@dataclass
class TestRecord:
    """One hidden test's result."""

    __test__ = False  # not a pytest test class, despite its name

    name: str
    exercise: str
    max_score: float
    score: float
    outcome: Outcome
    output: str = ""
    duration: float = 0.0
    advice: list[str] = field(default_factory=list)  # feedback worth no points (habits the grader cannot verify)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.outcome.value
        del data["outcome"]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TestRecord:
        data = dict(data)
        outcome = Outcome(data.pop("status"))
        return cls(outcome=outcome, **data)


@dataclass
class SubmissionResult:
    """One student's grade."""

    student: str
    status: Status
    tests: list[TestRecord]
    max_score: float
    flags: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # modules of the graded exercises it did not hold
    notes: list[Note] = field(default_factory=list)
    execution_time: float = 0.0
    isolation: str = "bwrap"

    @property
    def score(self) -> float:
        return round(sum(t.score for t in self.tests), 6)

    @property
    def unreadable(self) -> bool:
        """Whether the submission, or one of its modules, could not be read."""
        return any(n.kind.unread for n in self.notes)

    @property
    def message(self) -> str:
        """The missing modules and the notes, as one line for people to read."""
        parts = [f"missing modules: {', '.join(self.missing)}"] if self.missing else []
        return "; ".join(parts + [n.text for n in self.notes])

    def exercise_scores(self) -> dict[str, dict[str, float]]:
        """Score and maximum per exercise, in the tests' order."""
        totals: dict[str, dict[str, float]] = {}
        for t in self.tests:
            entry = totals.setdefault(t.exercise, {"score": 0.0, "max_score": 0.0})
            entry["score"] = round(entry["score"] + t.score, 6)
            entry["max_score"] = round(entry["max_score"] + t.max_score, 6)
        return totals

    def to_json(self) -> dict[str, Any]:
        return {
            "student": self.student,
            "score": self.score,
            "max_score": self.max_score,
            "status": self.status.value,
            "exercises": self.exercise_scores(),
            "tests": [t.to_json() for t in self.tests],
            "flags": list(self.flags),
            "missing": list(self.missing),
            "notes": [n.to_json() for n in self.notes],
            "message": self.message,
            "execution_time": round(self.execution_time, 3),
            "isolation": self.isolation,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SubmissionResult:
        return cls(
            student=data["student"],
            status=Status(data["status"]),
            tests=[TestRecord.from_json(t) for t in data["tests"]],
            max_score=data["max_score"],
            flags=list(data.get("flags", [])),
            missing=list(data.get("missing", [])),
            notes=[Note.from_json(n) for n in data.get("notes", [])],
            execution_time=data.get("execution_time", 0.0),
            isolation=data.get("isolation", "bwrap"),
        )


@dataclass
class ClassReport:
    """Every submission's result, in student order, with how the run went."""

    results: list[SubmissionResult]
    max_score: float
    exercises: tuple[str, ...]  # the graded exercises, in registry order: the gradebooks' columns
    cached: int = 0
    elapsed: float = 0.0
    uids: tuple[int, ...] = ()  # the sandbox uids this run's workers ran as

    @property
    def unreadable(self) -> list[SubmissionResult]:
        """The submissions that could not be read, in whole or in part."""
        return [r for r in self.results if r.unreadable]

    def to_json(self) -> dict[str, Any]:
        """The JSON gradebook's content."""
        return {
            "max_score": self.max_score,
            "exercises": list(self.exercises),
            "run": {"cached": self.cached, "elapsed": round(self.elapsed, 3), "uids": list(self.uids),
                    "unreadable": len(self.unreadable)},
            "submissions": [r.to_json() for r in self.results],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ClassReport:
        """Read a JSON gradebook back (the derived fields, such as scores and messages, are recomputed)."""
        run = data.get("run", {})
        return cls(
            results=[SubmissionResult.from_json(r) for r in data["submissions"]],
            max_score=data["max_score"],
            exercises=tuple(data["exercises"]),
            cached=run.get("cached", 0),
            elapsed=run.get("elapsed", 0.0),
            uids=tuple(run.get("uids", ())),
        )
