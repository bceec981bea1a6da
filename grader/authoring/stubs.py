"""Generate the student side of each exercise from its reference solution, the single source.

A solution marks the code a student must write with nbgrader's markers::

    ### BEGIN SOLUTION
    ...
    ### END SOLUTION

and ends with the tiered hints of its visible checks, keyed by check name, from a nudge
toward the idea to the line itself::

    ### BEGIN HINTS
    HINTS = {
        "test_net_output_shape": (
            "What shape does each layer give? ...",
            "...",
            "x = torch.flatten(x, 1)",
        ),
    }
    ### END HINTS

From it come three files in exercises/ (all committed, all checked by `grader stubs --check`):
the stub `<module>` (each solution region replaced by a `raise NotImplementedError` at its
indentation, as nbgrader does; the hints left out), the notebook `<stem>.ipynb`, and
`_kit/generated/<id>.json`, the hints and fingerprints of the untouched stub and notebook that
the kit reads.
"""

from __future__ import annotations

import ast
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from grader import registry
from grader.paths import EXERCISES, SOLUTIONS

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
HINTS_BEGIN = "### BEGIN HINTS"
HINTS_END = "### END HINTS"
PLACEHOLDER = ("# YOUR CODE HERE", 'raise NotImplementedError("not started yet")')
GENERATED = "_kit/generated"  # under exercises/


class RegionError(ValueError):
    """Solution or hint markers are unbalanced or nested, or the hints cannot be read."""


def split_hints(source: str, filename: str = "<solution>") -> tuple[str, dict[str, tuple[str, ...]]]:
    """`source` without its hints region, and the hints: check name -> tiers."""
    lines = source.splitlines(keepends=True)
    marks = [i for i, line in enumerate(lines) if line.strip() in (HINTS_BEGIN, HINTS_END)]
    if not marks:
        return source, {}
    if len(marks) != 2 or lines[marks[0]].strip() != HINTS_BEGIN:
        raise RegionError(f"{filename}:{marks[0] + 1}: expected one {HINTS_BEGIN} ... {HINTS_END} region")
    start, end = marks
    block = "".join(lines[start + 1 : end])
    try:
        tree = ast.parse(block)
        node = tree.body[0] if len(tree.body) == 1 else None
        if not isinstance(node, ast.Assign) or [getattr(t, "id", "") for t in node.targets] != ["HINTS"]:
            raise ValueError("the region must hold exactly one assignment `HINTS = {...}`")
        raw = ast.literal_eval(node.value)
        hints = {str(name): tuple(str(t) for t in tiers) for name, tiers in raw.items()}
    except (SyntaxError, ValueError, TypeError, AttributeError) as exc:
        raise RegionError(f"{filename}:{start + 1}: cannot read the hints: {exc}") from None
    rest = lines[:start] + lines[end + 1 :]
    while rest and not rest[-1].strip():
        rest.pop()
    return "".join(rest), hints


def make_stub(source: str, filename: str = "<solution>") -> str:
    """Replace every solution region of `source` with the not-started placeholder; drop the hints."""
    source, _ = split_hints(source, filename)
    out: list[str] = []
    in_region = False
    start_line = 0
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        marker = line.strip()
        if marker == BEGIN:
            if in_region:
                raise RegionError(f"{filename}:{number}: {BEGIN} inside another region (opened at line {start_line})")
            in_region, start_line = True, number
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(f"{indent}{text}\n" for text in PLACEHOLDER)
        elif marker == END:
            if not in_region:
                raise RegionError(f"{filename}:{number}: {END} without {BEGIN}")
            in_region = False
        elif not in_region:
            out.append(line)
    if in_region:
        raise RegionError(f"{filename}:{start_line}: {BEGIN} is never closed")
    return "".join(out)


def count_regions(source: str) -> int:
    """How many solution regions `source` holds."""
    return sum(1 for line in source.splitlines() if line.strip() == BEGIN)


def text_sha256(text: str) -> str:
    """The kit's fingerprint of a text (exercises/_kit/catalog.py computes the same)."""
    return hashlib.sha256(text.replace("\r\n", "\n").encode("utf-8")).hexdigest()


def hint_data(exercise: registry.Exercise, solution: str, stub: str, notebook: str) -> str:
    """The text of exercises/_kit/generated/<id>.json."""
    from grader.authoring import notebooks

    _, hints = split_hints(solution)
    data = {
        "generated_from": f"solutions/{exercise.module} by `grader stubs`: do not edit",
        "exercise": exercise.id,
        "stub_sha256": text_sha256(stub),
        "notebook_sha256": notebooks.student_fingerprint(notebook),
        "hints": {name: list(tiers) for name, tiers in hints.items()},
    }
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


def expected_files(solutions: Path = SOLUTIONS) -> dict[str, str]:
    """Every generated file's text, by its path under exercises/, for each registry exercise."""
    from grader.authoring import notebooks

    files: dict[str, str] = {}
    for exercise in registry.load():
        path = solutions / exercise.module
        solution = path.read_text(encoding="utf-8")
        stub = make_stub(solution, str(path))
        notebook = notebooks.build(exercise, solution)
        files[exercise.module] = stub
        files[f"{exercise.stem}.ipynb"] = notebook
        files[f"{GENERATED}/{exercise.id}.json"] = hint_data(exercise, solution, stub, notebook)
    return files


@dataclass(frozen=True)
class StubDrift:
    """A generated file that differs from the one in exercises/."""

    module: str  # its path under exercises/
    reason: str


def write_stubs(solutions: Path = SOLUTIONS, exercises: Path = EXERCISES) -> list[str]:
    """Regenerate the stubs, notebooks and hint data in `exercises`; return the files that changed."""
    changed = []
    for name, text in expected_files(solutions).items():
        target = exercises / name
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8", newline="\n")
            changed.append(name)
    return changed


def check_stubs(solutions: Path = SOLUTIONS, exercises: Path = EXERCISES) -> list[StubDrift]:
    """The generated files in `exercises` that are out of sync with `solutions`."""
    drift = []
    for name, text in expected_files(solutions).items():
        target = exercises / name
        if not target.exists():
            drift.append(StubDrift(name, "missing"))
        elif target.read_text(encoding="utf-8") != text:
            drift.append(StubDrift(name, "differs from the file generated from solutions/"))
    return drift
