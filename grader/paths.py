"""Where the kit's parts live on disk."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = ROOT / "exercises"
SOLUTIONS = ROOT / "solutions"
DATA = ROOT / "data"
SUITES = Path(__file__).resolve().parent / "exercises"  # one folder per exercise: hidden checks and mutants
INSIDE = Path(__file__).resolve().parent / "inside"  # everything that runs in the sandbox
REGISTRY = EXERCISES / "registry.toml"
