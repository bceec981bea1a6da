"""Where the kit's parts live on disk."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = ROOT / "exercises"
SOLUTIONS = ROOT / "solutions"
DATA = ROOT / "data"
HIDDEN = Path(__file__).resolve().parent / "hidden"
REGISTRY = EXERCISES / "registry.toml"
EXAMPLE_CLASS = ROOT / "grader" / "example_class"
