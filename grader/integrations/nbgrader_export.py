"""Export the exercises as an nbgrader assignment: one notebook per exercise, built with nbformat.

COURSE_DIR/source/NAME/<exercise>.ipynb holds, in order:

* a markdown cell: the exercise's title and its module docstring (the instructions);
* a read-only setup cell that points the kit's data loaders at the data shipped alongside;
* solution cells: the solution module's code, one cell per top-level function or class that
  holds a solution region, with the ``### BEGIN SOLUTION`` / ``### END SOLUTION`` markers kept;
* one autograder cell per hidden test case (each parametrized case apart), worth that case's
  points, so nbgrader's total is the kit's. It runs the visible check of the same name, if there
  is one, then the hidden test between ``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS``.

Next to the notebooks go the kit's student helpers (_kit/), the visible checks (test_<module>.py)
and the data, so a release is self-contained. nbgrader_config.py is created, or completed with
a marked block that only adds what is missing.

Grade ids: solution cells are ``<exercise>_code`` (the first) and ``<exercise>_code_<Name>``;
autograder cells are ``<exercise>__<test function>``, with ``__<k>`` (the case's position) for
parametrized tests: a release must not show the hidden parameters, and its metadata is public.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode

from grader.grading import suite
from grader.grading.notebook_source import SETUP_SOURCE
from grader import registry
from grader.authoring import stubs
from grader.paths import DATA, EXERCISES, SOLUTIONS

SCHEMA_VERSION = 3
CONFIG_NAME = "nbgrader_config.py"
BLOCK_BEGIN = "# >>> cnn-kit: settings added by `grader nbgrader export` (rewritten on each export) >>>"
BLOCK_END = "# <<< cnn-kit <<<"
NOTEBOOK_NOTE = (
    "*In this notebook:* write your code in the cells below, replacing each "
    "`raise NotImplementedError`, then run all cells: the cells after your code check it."
)
DATA_PARTS = ("MNIST/raw", "shapes", "README.md", "SHA256SUMS")
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".ipynb_checkpoints")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class ExportError(ValueError):
    """The assignment cannot be exported as asked (one-line message)."""


@dataclass(frozen=True)
class HiddenCase:
    """One collected hidden test item and the nbgrader cell that stands for it."""

    name: str  # the pytest item name, e.g. "test_net_any_batch_size[7]"
    function: str  # the test function, e.g. "test_net_any_batch_size"
    points: float
    grade_id: str


@dataclass
class ExportResult:
    """What an export wrote."""

    folder: Path
    notebooks: list[Path]
    points: dict[str, float]  # exercise -> points of its autograder cells
    config: Path
    config_changed: bool
    warnings: list[str] = field(default_factory=list)


# -- hidden cases and grade ids ------------------------------------------------------------
@cache
def hidden_cases(exercise: str) -> tuple[HiddenCase, ...]:
    """The hidden suite's items for `exercise`, in collection (= run) order, with their grade ids."""
    if not suite.suite_file(exercise).is_file():
        return ()
    try:
        found = suite.collect((exercise,))
    except suite.SuiteError as exc:
        raise ExportError(str(exc).splitlines()[0]) from None
    ids = grade_ids(exercise, [(i.name, i.function) for i in found])
    return tuple(HiddenCase(i.name, i.function, i.points, ids[i.name]) for i in found)


def grade_ids(exercise: str, items: list[tuple[str, str]]) -> dict[str, str]:
    """Grade ids for (item name, function) pairs: <exercise>__<function>, plus __<k> for the k-th
    case of a parametrized function (its parameters stay out of the public metadata)."""
    per_function: dict[str, list[str]] = {}
    for name, function in items:
        per_function.setdefault(function, []).append(name)
    ids: dict[str, str] = {}
    for function, names in per_function.items():
        base = f"{exercise}__{_safe(function)}"
        for k, name in enumerate(names, start=1):
            ids[name] = base if len(names) == 1 and name == function else f"{base}__{k}"
    return ids


def _safe(text: str) -> str:
    """Only what nbgrader accepts in a grade id: letters, digits, _ and -."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_") or "test"


# -- notebook building ---------------------------------------------------------------------
def _meta(grade_id: str, *, grade: bool = False, solution: bool = False, locked: bool = False,
          points: float | None = None) -> dict:
    meta = {"grade": grade, "solution": solution, "locked": locked, "task": False,
            "grade_id": grade_id, "schema_version": SCHEMA_VERSION}
    if points is not None:
        meta["points"] = int(points) if float(points).is_integer() else points
    return {"nbgrader": meta}


def _cell_id(grade_id: str) -> str:
    """A stable cell id (nbformat: 1-64 of [A-Za-z0-9_-]), so that re-exports are reproducible."""
    return grade_id[:64]


def split_module(source: str) -> tuple[str, list[tuple[str, str]]]:
    """The module docstring, and the code cut into cells: (label, code) per top-level function or
    class that holds a solution region, with imports and region-free code joined to a neighbour."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    body = list(tree.body)
    docstring = ast.get_docstring(tree) or ""
    start = 0
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
            and isinstance(body[0].value.value, str):
        start = body[0].end_lineno or 0
        body = body[1:]
    cuts: list[tuple[int, str]] = [(start, "")]
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
            while first > cuts[-1][0] and lines[first - 1].lstrip().startswith("#"):
                first -= 1
            cuts.append((first, node.name))
    chunks = []
    for (begin, label), (end, _) in zip(cuts, cuts[1:] + [(len(lines), "")]):
        code = "".join(lines[begin:end]).strip("\n")
        if code.strip():
            chunks.append((label, code))
    groups: list[list[tuple[str, str]]] = []
    pending: list[tuple[str, str]] = []
    for label, code in chunks:
        pending.append((label, code))
        if stubs.count_regions(code):
            groups.append(pending)
            pending = []
    if pending:
        if groups:
            groups[-1].extend(pending)
        else:
            groups.append(pending)
    cells = []
    for group in groups:
        label = next((lab for lab, code in group if stubs.count_regions(code)), group[0][0])
        cells.append((label, "\n\n\n".join(code for _, code in group)))
    return docstring, cells


def visible_checks(module: str) -> dict[str, str]:
    """The visible checks of exercises/test_<module>: function name -> first docstring line."""
    path = EXERCISES / f"test_{module}"
    if not path.is_file():
        return {}
    checks = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
            doc = (ast.get_docstring(node) or "").strip()
            checks[node.name] = doc.splitlines()[0] if doc else ""
    return checks


def test_cell_source(exercise: registry.Exercise, case: HiddenCase, visible: dict[str, str], count: int,
                     position: int) -> str:
    """The autograder cell of one hidden case: a header, the visible check, the hidden test."""
    points = f"{case.points:g} point{'s' if case.points != 1 else ''}"
    which = f", case {position} of {count}" if count > 1 else ""
    about = f": {visible[case.function]}" if visible.get(case.function) else ""
    lines = [f"# Check {case.function}{which} ({points}){about}"]
    if case.function in visible:
        lines.append(f"from _kit.notebook import run_visible; run_visible({_q(exercise.stem)}, {_q(case.function)}, globals())")
    lines += ["### BEGIN HIDDEN TESTS",
              f"from grader.integrations.nbgrader_kernel import run_hidden; run_hidden({_q(exercise.id)}, {_q(case.name)}, globals())",
              "### END HIDDEN TESTS"]
    return "\n".join(lines)


def _q(text: str) -> str:
    """A double-quoted Python string literal."""
    return json.dumps(text)


def build_notebook(exercise: registry.Exercise, solutions: Path = SOLUTIONS) -> tuple[NotebookNode, float]:
    """The source notebook of one exercise, and the points its autograder cells carry."""
    path = solutions / exercise.module
    try:
        source, _ = stubs.split_hints(path.read_text(encoding="utf-8"))  # the hints' last tier shows the answer
        docstring, parts = split_module(source)
    except (OSError, SyntaxError, stubs.RegionError) as exc:
        raise ExportError(f"cannot read the solution {path}: {exc}") from None
    v4 = nbformat.v4
    intro = f"# {exercise.title}\n\n{docstring}\n\n{NOTEBOOK_NOTE}"
    cells = [v4.new_markdown_cell(intro, id=_cell_id(f"{exercise.id}_intro")),
             v4.new_code_cell(SETUP_SOURCE, id=_cell_id(f"{exercise.id}_setup"),
                              metadata=_meta(f"{exercise.id}_setup", locked=True))]
    used: set[str] = set()
    for index, (label, code) in enumerate(parts):
        grade_id = f"{exercise.id}_code" if index == 0 else f"{exercise.id}_code_{_safe(label) or index + 1}"
        while grade_id in used:
            grade_id += "_"
        used.add(grade_id)
        solution = stubs.count_regions(code) > 0  # a solution cell without a region would be blanked
        cells.append(v4.new_code_cell(code, id=_cell_id(grade_id),
                                      metadata=_meta(grade_id, solution=solution, locked=not solution)))
    visible = visible_checks(exercise.module)
    cases = [c for c in hidden_cases(exercise.id) if c.points > 0]
    counts: dict[str, int] = {}
    for case in cases:
        counts[case.function] = counts.get(case.function, 0) + 1
    seen: dict[str, int] = {}
    for case in cases:
        seen[case.function] = seen.get(case.function, 0) + 1
        text = test_cell_source(exercise, case, visible, counts[case.function], seen[case.function])
        cells.append(v4.new_code_cell(text, id=_cell_id(case.grade_id),
                                      metadata=_meta(case.grade_id, grade=True, locked=True, points=case.points)))
    notebook = v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
        "language_info": {"name": "python"},
    })
    nbformat.validate(notebook)
    return notebook, sum(c.points for c in cases)


# -- nbgrader_config.py --------------------------------------------------------------------
def config_settings(course_id: str) -> list[tuple[str, str]]:
    """(option, Python value) pairs the exported course needs."""
    stub = '# YOUR CODE HERE\nraise NotImplementedError("not started yet")'
    return [
        ("CourseDirectory.course_id", repr(course_id)),
        ("Execute.timeout", "600"),  # seconds per cell; nbgrader's 30 is short for training checks
        ("ClearSolutions.code_stub", repr({"python": stub})),  # the kit's own stub text
    ]


def merge_config(course: Path, course_id: str = "cnn-kit") -> tuple[Path, bool]:
    """Create COURSE_DIR/nbgrader_config.py, or add the settings it lacks in a marked block;
    text outside the block is never changed. Return the path and whether the file changed."""
    path = Path(course) / CONFIG_NAME
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    pattern = re.compile(rf"^{re.escape(BLOCK_BEGIN)}\n.*?^{re.escape(BLOCK_END)}\n?", re.M | re.S)
    outside = pattern.sub("", text)
    missing = [(key, value) for key, value in config_settings(course_id)
               if not re.search(rf"^\s*c\.{re.escape(key)}\s*=", outside, re.M)]
    block = ""
    if missing:
        body = ["c = get_config()  # noqa: F821 (nbgrader's config loader provides it)"]
        for key, value in missing:
            section, name = key.split(".")
            body += [f"if {name!r} not in c.{section}:", f"    c.{key} = {value}"]
        block = "\n".join([BLOCK_BEGIN, *body, BLOCK_END]) + "\n"
    if pattern.search(text):
        new = pattern.sub(lambda _: block, text, count=1)
    elif not text:
        new = f'"""nbgrader configuration of this course."""\n\n{block}'
    else:
        new = text if not block else text.rstrip("\n") + "\n\n" + block
    if new != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(new, encoding="utf-8")
    return path, new != text


# -- the whole export ----------------------------------------------------------------------
def export(course: Path, assignment: str, exercises: tuple[str, ...] = (), course_id: str = "cnn-kit") -> ExportResult:
    """Write COURSE_DIR/source/<assignment>/ (notebooks, _kit/, checks, data) and the config."""
    if not _NAME.match(assignment):
        raise ExportError(f"assignment name {assignment!r}: use letters, digits, '_', '-' and '.'")
    known = {e.id: e for e in registry.load()}
    unknown = [e for e in exercises if e not in known]
    if unknown:
        raise ExportError(f"unknown exercise {unknown[0]!r}; choose from {', '.join(known)}")
    chosen = [e for e in registry.load() if not exercises or e.id in exercises]
    course = Path(course)
    folder = course / "source" / assignment
    folder.mkdir(parents=True, exist_ok=True)
    warnings: list[str] = []
    notebooks: list[Path] = []
    points: dict[str, float] = {}
    for exercise in chosen:
        notebook, total = build_notebook(exercise)
        path = folder / f"{exercise.id}.ipynb"
        nbformat.write(notebook, str(path))
        notebooks.append(path)
        points[exercise.id] = total
        if total != exercise.points:
            warnings.append(f"{exercise.id}: its hidden tests are worth {total:g} points, the registry says "
                            f"{exercise.points:g}" + ("" if total else " (no hidden suite yet)"))
    shutil.copytree(EXERCISES / "_kit", folder / "_kit", ignore=IGNORE, dirs_exist_ok=True)
    for exercise in chosen:
        check = EXERCISES / f"test_{exercise.module}"
        if check.is_file():
            shutil.copy2(check, folder / check.name)
        else:
            warnings.append(f"{exercise.id}: there is no visible check file {check.name}")
    for part in DATA_PARTS:
        source, target = DATA / part, folder / "data" / part
        if source.is_dir():
            shutil.copytree(source, target, ignore=IGNORE, dirs_exist_ok=True)
        elif source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        else:
            warnings.append(f"data/{part} is missing from the kit, so the release lacks it")
    config, changed = merge_config(course, course_id)
    return ExportResult(folder, notebooks, points, config, changed, warnings)
