"""Remember graded submissions by content hash, so re-runs skip unchanged work and a killed
run resumes where it stopped.

A result is found again only under the same key, and the key covers everything that can change
a verdict: the kit's grading code, helpers, solutions, hidden suites, registry and data (every
byte of them), the Python, torch and torchvision it runs on, every grading option, and the
submission's own modules and notes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
from functools import cache
from importlib import metadata
from pathlib import Path

from grader import atomic
from grader.grading.options import GradeOptions
from grader.grading.results import Note, SubmissionResult
from grader.isolation import sandbox
from grader.paths import ROOT

# What of the kit decides a grade: the whole grading package (hidden suites, the code inside the
# sandbox and the held-out digits included), the student-side helpers the sandbox sees, the
# solutions, the registry and the data.
GRADING_PARTS = ("grader", "exercises/_kit", "exercises/registry.toml", "solutions", "data")
RUNTIME = ("torch", "torchvision")


def tree_digest(*paths: Path, relative_to: Path = ROOT) -> str:
    """A hash of every file under `paths` (names and bytes), bytecode caches aside."""
    digest = hashlib.sha256()
    files = sorted({f for p in paths for f in ([p] if p.is_file() else p.rglob("*"))
                    if f.is_file() and "__pycache__" not in f.parts and f.suffix != ".pyc"})
    for file in files:
        name = file.relative_to(relative_to) if relative_to in file.parents else file
        digest.update(name.as_posix().encode() + b"\0" + hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()


def fingerprint(root: Path) -> str:
    """A hash of the kit at `root` that changes whenever anything that can decide a grade does."""
    digest = hashlib.sha256(tree_digest(*(root / part for part in GRADING_PARTS), relative_to=root).encode())
    digest.update(sys.version.encode())
    for name in RUNTIME:
        digest.update(f"{name}=={metadata.version(name)}".encode())
    return digest.hexdigest()


@cache
def kit_fingerprint() -> str:
    """This kit's fingerprint, computed once per process."""
    return fingerprint(ROOT)


def settings(options: GradeOptions) -> str:
    """Every grading option, as text. The run's data folder is left out: it follows from the secret.
    So is a secret drawn fresh for the run (or nothing would ever be found again); one the
    instructor fixed, to reproduce a run, counts."""
    values = {}
    for option in dataclasses.fields(options):
        value = getattr(options, option.name)
        if option.name == "data":
            continue
        if option.name == "secret":
            value = hashlib.sha256(value).hexdigest() if value is not None else None
        if option.name == "suites":
            value = tree_digest(value)
        values[option.name] = repr(value)
    values["gpu"] = repr(sandbox.gpu_visible())
    return json.dumps(values, sort_keys=True)


def submission_key(sources: dict[str, bytes], notes: tuple[Note, ...], settings: str, kit: str | None = None) -> str:
    """The cache key of one submission under the kit's fingerprint (`kit`, this kit's by default)
    and the grading `settings`."""
    digest = hashlib.sha256((kit or kit_fingerprint()).encode() + b"\0" + settings.encode())
    for name in sorted(sources):
        digest.update(name.encode() + b"\0" + hashlib.sha256(sources[name]).digest())
    for note in notes:
        digest.update(f"\0{note.kind.value}\0{note.text}".encode())
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
