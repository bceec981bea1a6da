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
    message: str = ""
    execution_time: float = 0.0
    isolation: str = "bwrap"

    @property
    def score(self) -> float:
        return round(sum(t.score for t in self.tests), 6)

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
            message=data.get("message", ""),
            execution_time=data.get("execution_time", 0.0),
            isolation=data.get("isolation", "bwrap"),
        )
