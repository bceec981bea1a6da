"""The reference solutions, imported in the trusted process to compute expectations."""

from __future__ import annotations

import importlib.util
from functools import cache
from types import ModuleType

from grader.paths import SOLUTIONS


@cache
def solution(stem: str) -> ModuleType:
    """solutions/<stem>.py as a module (never visible to a sandboxed worker)."""
    path = SOLUTIONS / f"{stem}.py"
    spec = importlib.util.spec_from_file_location(f"_reference_{stem}", path)
    if spec is None or spec.loader is None or not path.exists():
        raise FileNotFoundError(f"the reference solution {path} is missing: grading needs the instructor's copy")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
