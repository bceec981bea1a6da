"""Remember graded submissions by content hash, so re-runs skip unchanged work and a killed
run resumes where it stopped."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

from grader import atomic
from grader.paths import DATA, EXERCISES, HIDDEN, ROOT, SOLUTIONS
from grader.results import SubmissionResult

SUITE_FILES = (
    "grader/protocol.py", "grader/worker.py", "grader/checks.py", "grader/plugin.py", "grader/runner.py",
    "grader/client.py", "grader/sandbox.py", "grader/reference.py", "grader/flags.py", "grader/results.py",
    "grader/zygote.py", "grader/fork_server.py", "grader/options.py",
)


@cache
def suite_fingerprint() -> str:
    """A hash of everything that decides a grade: hidden tests, probes, solutions, registry, data sums."""
    digest = hashlib.sha256()
    paths = [ROOT / p for p in SUITE_FILES]
    for folder in (HIDDEN, ROOT / "grader" / "probes", SOLUTIONS):
        paths += sorted(folder.rglob("*.py")) + sorted(folder.rglob("*.ini"))
    paths += [EXERCISES / "registry.toml", DATA / "SHA256SUMS"]
    for path in paths:
        if path.exists():
            digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def submission_key(sources: dict[str, bytes], settings: str) -> str:
    """The cache key of one submission under the current suite and grading settings."""
    digest = hashlib.sha256(suite_fingerprint().encode() + settings.encode())
    for name in sorted(sources):
        digest.update(name.encode() + b"\0" + hashlib.sha256(sources[name]).digest())
    return digest.hexdigest()


class ResultCache:
    """A folder of JSON results named by submission key; each written atomically."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def get(self, key: str, student: str) -> SubmissionResult | None:
        path = self.folder / f"{key}.json"
        try:
            result = SubmissionResult.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError):
            return None
        result.student = student
        return result

    def put(self, key: str, result: SubmissionResult) -> None:
        atomic.write_text(self.folder / f"{key}.json", json.dumps(result.to_json()))
