"""A notebook in a submission stands for its module: the code the student wrote in it.

The code is the notebook's code cells, in order: its solution cells and any cells the student
added (what a kernel runs), without the cells that belong to the kit or to nbgrader (setup, check,
progress and autograder cells, known by their metadata or by what they call). Broken notebooks
give what can be found, with notes: invalid JSON (code cells are recovered from the text),
solution cells deleted, duplicated or turned into markdown, cells that do not compile (left out,
as a kernel would fail just that cell). grader.integrations.nbgrader_grade reads nbgrader
submissions with it; grader.grading.discovery lets a student hand in <module>.ipynb instead of
<module>.py (resolve).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from grader import registry
from grader.kit import workspace

SETUP_SOURCE = (
    "# Setup (read-only): the kit's helpers (_kit/), checks and data sit next to this notebook.\n"
    "import os\n"
    'if "CNN_KIT_DATA" not in os.environ:  # where _kit.datasets looks for the data\n'
    '    os.environ["CNN_KIT_DATA"] = os.path.abspath("data")'
)
# metadata.cnn_kit.role of the kit's own cells (grader/authoring/notebooks.py)
KIT_ROLES = ("setup", "check", "progress")
# the kit's cells, not the student's
AUTOGRADER_MARKS = ("run_visible(", "run_hidden(", "BEGIN HIDDEN TESTS", "_kit.notebook")
MAX_NOTEBOOK_BYTES = 64 << 20
_STRING = r'"(?:[^"\\]|\\.)*"'
_SOURCE = re.compile(rf'"source"\s*:\s*({_STRING}|\[\s*(?:{_STRING}\s*,?\s*)*\])')
_CELL_TYPE = re.compile(r'"cell_type"\s*:\s*"(\w+)"')
_GRADE_ID = re.compile(rf'"grade_id"\s*:\s*({_STRING})')
_FLAG = re.compile(r'"(grade|solution)"\s*:\s*(true|false)')
_FUTURE = re.compile(r"^from __future__ import .*$", re.M)



@dataclass
class Extraction:
    """A notebook's module source (None when no code was found) and what was odd about it."""

    source: str | None
    notes: list[str] = field(default_factory=list)


# -- one notebook -> one module ------------------------------------------------------------
def _text(source: Any) -> str:
    if isinstance(source, list):
        return "".join(s for s in source if isinstance(s, str))
    return source if isinstance(source, str) else ""


def _cells(data: Any) -> list[dict[str, Any]] | None:
    """The cells of a parsed notebook (nbformat 4, or the worksheets of nbformat 3)."""
    if not isinstance(data, dict):
        return None
    cells = data.get("cells")
    if cells is None and isinstance(data.get("worksheets"), list):
        cells = [c for w in data["worksheets"] if isinstance(w, dict) for c in w.get("cells", [])]
        for cell in cells:
            if isinstance(cell, dict) and "input" in cell and "source" not in cell:
                cell["source"] = cell["input"]
    if not isinstance(cells, list):
        return None
    return [c for c in cells if isinstance(c, dict)]


def recover_cells(text: str) -> list[dict[str, Any]]:
    """The cells whose source can still be read from a notebook that is not valid JSON."""
    cells = []
    for match in _SOURCE.finditer(text):
        try:
            source = json.loads(match.group(1))
        except ValueError:
            continue
        before = text[: match.start()]
        kinds = list(_CELL_TYPE.finditer(before))
        kind = kinds[-1].group(1) if kinds else "code"
        own = before[kinds[-1].end() if kinds else 0:]  # this cell's keys before its source (nbformat sorts them)
        ids = list(_GRADE_ID.finditer(own))
        grade_id = json.loads(ids[-1].group(1)) if ids else None
        flags = {key: value == "true" for key, value in _FLAG.findall(own)}
        meta = {"nbgrader": {**flags, "grade_id": grade_id}} if isinstance(grade_id, str) else {}
        cells.append({"cell_type": kind, "source": source, "metadata": meta})
    return cells


def _mapping(parent: dict[str, Any], key: str) -> dict[str, Any]:
    """parent[key] when it is a dict (a notebook's JSON may hold anything), else an empty one."""
    value = parent.get(key)
    return value if isinstance(value, dict) else {}


def _compiles(code: str, label: str) -> SyntaxError | None:
    try:
        compile(code, label, "exec", dont_inherit=True)
    except SyntaxError as exc:
        return exc
    except (ValueError, TypeError) as exc:  # e.g. a NUL byte in the source
        return SyntaxError(str(exc))
    return None


def module_source(path: Path, exercise: str, expected: tuple[str, ...] = ()) -> Extraction:
    """The Python module a student's notebook for `exercise` amounts to.

    `expected` are the grade ids of the notebook's solution cells (from the gradebook), to say
    which ones are missing.
    """
    name = path.name
    if path.is_symlink() or not path.is_file():
        what = "is a link, which is not accepted" if path.is_symlink() else "was not submitted"
        return Extraction(None, [f"{name} {what}"])
    if path.stat().st_size > MAX_NOTEBOOK_BYTES:
        return Extraction(None, [f"{name} is larger than {MAX_NOTEBOOK_BYTES >> 20} MiB: not read"])
    return module_source_text(path.read_bytes().decode("utf-8", "replace"), name, exercise, expected)


def module_source_text(text: str, name: str, exercise: str, expected: tuple[str, ...] = ()) -> Extraction:
    """The Python module the notebook `text` (called `name`) amounts to; see module_source."""
    notes: list[str] = []
    try:
        cells = _cells(json.loads(text))
        problem = None if cells is not None else "is JSON but not a notebook"
    except ValueError as exc:
        cells, problem = None, f"is not valid JSON ({exc})"
    if cells is None:
        cells = recover_cells(text)
        notes.append(f"{name} {problem}: {len(cells)} cell(s) recovered from its text")
    ours = f"{exercise}_code"
    ids_seen: dict[str, int] = {}
    parts: list[str] = []
    futures: list[str] = []
    for index, cell in enumerate(cells, start=1):
        meta = _mapping(cell, "metadata")
        nbg, kit = _mapping(meta, "nbgrader"), _mapping(meta, "cnn_kit")
        grade_id = nbg.get("grade_id") if isinstance(nbg.get("grade_id"), str) else None
        kind = cell.get("cell_type")
        source = _text(cell.get("source"))
        mine = grade_id is not None and (grade_id == ours or grade_id.startswith(ours + "_"))
        if grade_id is not None:
            ids_seen[grade_id] = ids_seen.get(grade_id, 0) + 1
        label = f"cell {index}" + (f" ({grade_id})" if grade_id else "")
        if (nbg.get("grade") and not nbg.get("solution")) or any(m in source for m in AUTOGRADER_MARKS) \
                or kit.get("role") in KIT_ROLES:
            continue  # an autograder cell or one of the kit's: the trusted suite runs the real tests
        if grade_id == f"{exercise}_setup" or source.strip() == SETUP_SOURCE.strip() or not source.strip():
            continue
        if kind != "code":
            if not mine:
                continue
            notes.append(f"{name}: {label} is a {kind} cell, not code: its text was graded as code")
        futures += _FUTURE.findall(source)
        code = _FUTURE.sub("", source)
        error = _compiles(code, label)
        if error is not None and _compiles(workspace.without_magics(code), label) is None:
            code, error = workspace.without_magics(code), None
        if error is not None:
            where = f"line {error.lineno}: " if error.lineno else ""
            notes.append(f"{name}: {label} has a syntax error ({where}{error.msg}), so it was left out")
            continue
        parts.append(f"# --- {name}, {label} ---\n{code.rstrip()}\n")
    for grade_id, count in ids_seen.items():
        if count > 1:
            notes.append(f"{name}: grade id {grade_id} appears {count} times (copied cell?); all copies were "
                         "kept, in notebook order")
    missing = [g for g in expected if g not in ids_seen]
    if missing:
        notes.append(f"{name}: solution cell(s) {', '.join(missing)} missing (deleted?); the other code cells "
                     "were graded")
    if not parts:
        notes.append(f"{name}: no code found")
        return Extraction(None, notes)
    header = "".join(f"{line}\n" for line in dict.fromkeys(futures))
    return Extraction(header + "\n".join(parts), notes)


# -- a submission's notebooks ----------------------------------------------------------------
def accepted_names() -> set[str]:
    """The file names a submission may hold for the registry's modules: <module>.py or <stem>.ipynb."""
    return {name for e in registry.load() for name in (e.module, f"{e.stem}.ipynb")}


@cache
def _stub(module: str) -> str:
    from grader.authoring import stubs
    from grader.paths import SOLUTIONS

    return stubs.make_stub((SOLUTIONS / module).read_text(encoding="utf-8"))


def _untouched(module: str, data: bytes) -> bool:
    return data.decode("utf-8", "replace").replace("\r\n", "\n") == _stub(module)


def resolve(found: dict[str, bytes]) -> dict[str, bytes]:
    """Registry module -> source, from the .py files and notebooks of one submission. A notebook stands
    for its module when the .py file is missing or untouched (the student worked in the notebook)."""
    sources = {name: data for name, data in found.items() if not name.endswith(".ipynb")}
    for exercise in registry.load():
        notebook = found.get(f"{exercise.stem}.ipynb")
        if notebook is None or (exercise.module in sources
                                and not _untouched(exercise.module, sources[exercise.module])):
            continue
        extraction = module_source_text(notebook.decode("utf-8", "replace"), f"{exercise.stem}.ipynb", exercise.id)
        if extraction.source is not None:
            sources[exercise.module] = extraction.source.encode("utf-8")
    return sources
