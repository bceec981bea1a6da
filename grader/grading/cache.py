"""Remember graded submissions by content hash, so re-runs skip unchanged work and a killed
run resumes where it stopped."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

from grader import atomic
from grader.paths import DATA, EXERCISES, ROOT, SOLUTIONS
from grader.grading.results import SubmissionResult


@cache
def suite_fingerprint() -> str:
    """A hash of everything that can decide a grade: the whole grading package (hidden suites and
    the code inside the sandbox included), the student-side helpers the sandbox sees, the
    solutions, the registry and the data's checksums."""
    digest = hashlib.sha256()
    paths = [p for folder in (ROOT / "grader", EXERCISES / "_kit", SOLUTIONS)
             for suffix in ("*.py", "*.ini", "*.toml", "*.json") for p in folder.rglob(suffix)]
    paths += [EXERCISES / "registry.toml", DATA / "SHA256SUMS"]
    for path in sorted(set(paths)):
        if path.exists() and "__pycache__" not in path.parts:
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
