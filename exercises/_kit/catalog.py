"""What the kit knows about the exercises: the registry, each exercise's checks, and the data
`grader stubs` generates from the solutions (tiered hints, fingerprints of the untouched files).

Part of the kit: no need to edit. Everything here is read from files, never typed twice:
exercises/registry.toml gives the order and titles, exercises/test_<module> the checks, and
exercises/_kit/generated/<exercise>.json the hints.
"""

from __future__ import annotations

import ast
import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import NamedTuple

EXERCISES_DIR = Path(__file__).resolve().parent.parent
REGISTRY = EXERCISES_DIR / "registry.toml"
GENERATED_DIR = Path(__file__).resolve().parent / "generated"
PICTURES_DIR = EXERCISES_DIR / "pictures"  # the pictures of the student's own MNIST run (kit.py train)


class Check(NamedTuple):
    """One visible check: its function name and the first line of its docstring."""

    name: str
    title: str


@dataclass(frozen=True)
class Exercise:
    """One exercise, as the registry describes it."""

    id: str
    title: str
    module: str
    points: float = 0.0  # what the hidden checks make it worth

    @property
    def stem(self) -> str:
        """The module's import name, e.g. "lenet" for lenet.py."""
        return self.module.removesuffix(".py")

    @property
    def path(self) -> Path:
        return EXERCISES_DIR / self.module

    @property
    def notebook(self) -> Path:
        return EXERCISES_DIR / f"{self.stem}.ipynb"

    @property
    def test_file(self) -> Path:
        return EXERCISES_DIR / f"test_{self.module}"

    @property
    def checks(self) -> tuple[Check, ...]:
        """The visible checks, in file order (read from the test file, which is not imported)."""
        return _checks(self.test_file)

    @property
    def generated(self) -> Generated:
        return _generated(self.id)


@dataclass(frozen=True)
class Generated:
    """What `grader stubs` derived from the exercise's solution."""

    hints: dict[str, tuple[str, ...]] = field(default_factory=dict)
    stub_sha256: str = ""
    notebook_sha256: str = ""


class RegistryError(ValueError):
    """The registry file is missing or malformed."""


def read_registry(path: Path = REGISTRY) -> tuple[Exercise, ...]:
    """The exercises of a registry file, in its order; RegistryError, in one line, if it is not one."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RegistryError(f"cannot read the exercise registry {path}: {exc}") from exc
    try:
        found = tuple(Exercise(e["id"], e["title"], e["module"], float(e["points"])) for e in raw.get("exercise", []))
    except KeyError as exc:
        raise RegistryError(f"{path}: an exercise lacks the key {exc}") from exc
    except (TypeError, ValueError) as exc:
        raise RegistryError(f"{path}: an exercise's points are not a number: {exc}") from exc
    ids = [e.id for e in found]
    if len(set(ids)) != len(ids) or not found:
        raise RegistryError(f"{path}: exercise ids must be unique and at least one must exist")
    return found


@cache
def exercises() -> tuple[Exercise, ...]:
    """The exercises, in the registry's order (without a registry, as an nbgrader folder has: one per
    checks file, by name)."""
    if not REGISTRY.is_file():
        stems = sorted(p.name.removeprefix("test_").removesuffix(".py") for p in EXERCISES_DIR.glob("test_*.py"))
        return tuple(Exercise(stem, stem, f"{stem}.py") for stem in stems)
    return read_registry()


def by_test_file(path: str | Path) -> Exercise | None:
    """The exercise whose visible checks live in `path` (a test_<module> file), if any."""
    name = Path(path).name
    return next((e for e in exercises() if e.test_file.name == name), None)


def by_name(name: str) -> Exercise | None:
    """The exercise called `name`: its id, its module (lenet.py), or a file of it (test_lenet.py, lenet.ipynb)."""
    stem = Path(name).name.removeprefix("test_").removesuffix(".py").removesuffix(".ipynb")
    return next((e for e in exercises() if stem in (e.id, e.stem)), None)


@cache
def _checks(test_file: Path) -> tuple[Check, ...]:
    try:
        tree = ast.parse(test_file.read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return ()
    return tuple(
        Check(node.name, (ast.get_docstring(node) or node.name).strip().splitlines()[0])
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test")
    )


@cache
def _generated(exercise_id: str) -> Generated:
    path = GENERATED_DIR / f"{exercise_id}.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Generated()
    hints = {name: tuple(tiers) for name, tiers in raw.get("hints", {}).items()}
    return Generated(hints, raw.get("stub_sha256", ""), raw.get("notebook_sha256", ""))


def text_sha256(text: str) -> str:
    """The fingerprint of a text, blind to Windows line endings (git may add them on checkout)."""
    return hashlib.sha256(text.replace("\r\n", "\n").encode("utf-8")).hexdigest()
