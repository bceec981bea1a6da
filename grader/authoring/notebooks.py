"""Each exercise as a Jupyter notebook, generated from its solution: the same exercise as
exercises/<module>, for students who prefer notebooks.

The notebook holds the instructions (the module's docstring) as markdown, a setup cell, the
stub's code cut into one cell per task (a function or class to write), after each task a cell
that runs that task's visible checks on the notebook's own code, and a last cell that shows the
student's progress in every exercise. Cells carry `metadata.cnn_kit.role` (setup, task, check,
progress), which the kit and the grader read to tell the student's code from the kit's cells.
"""

from __future__ import annotations

import ast
import json

import nbformat

from grader import registry
from grader.authoring import stubs
from grader.paths import EXERCISES

KIT_ROLES = ("setup", "check", "progress")  # as exercises/_kit/workspace.py reads them
KIT_MARK = "_kit.notebook"
SETUP = "from _kit.notebook import check, progress  # the kit's checks: run this cell first (Shift+Enter)"
HOW = (
    "**How this notebook works.** Write your code in the code cells, replacing each "
    "`raise NotImplementedError`, and run each cell (Shift+Enter). The cell after each task runs its "
    "checks on your code; the last cell shows your progress in every exercise. Save the notebook "
    "(Ctrl+S) as you go: your progress and the hand-in (`python exercises/kit.py handin`) read the saved "
    "file. You may work here or in `exercises/{module}`: the kit takes the one you changed."
)


def _names_used(node: ast.AST) -> set[str]:
    """Attribute names, plain names and string constants in `node` (how a check reaches the student's code)."""
    found: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Attribute):
            found.add(sub.attr)
        elif isinstance(sub, ast.Name):
            found.add(sub.id)
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            found.add(sub.value)
    return found


def check_names_used(test_source: str) -> dict[str, set[str]]:
    """For each check of a visible test file, every name it uses, through the file's helper functions too."""
    tree = ast.parse(test_source)
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    direct = {name: _names_used(node) for name, node in functions.items()}
    used: dict[str, set[str]] = {}
    for name in functions:
        if not name.startswith("test"):
            continue
        seen, todo = {name}, [name]
        names: set[str] = set()
        while todo:
            current = direct[todo.pop()]
            names |= current
            for helper in current & functions.keys() - seen:
                seen.add(helper)
                todo.append(helper)
        used[name] = names
    return used


def _defined(code: str) -> set[str]:
    return {n.name for n in ast.parse(code).body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}


def checks_by_task(tasks: list[str], test_source: str) -> list[list[str]]:
    """The checks to run after each task cell: each check goes after the last task it uses."""
    defined = [_defined(code) for code in tasks]
    placed: list[list[str]] = [[] for _ in tasks]
    for check, names in check_names_used(test_source).items():
        touched = [i for i, names_here in enumerate(defined) if names_here & names]
        placed[touched[-1] if touched else len(tasks) - 1].append(check)
    return placed


def _cell(kind: str, source: str, cell_id: str, role: str | None) -> nbformat.NotebookNode:
    meta = {"cnn_kit": {"role": role}} if role else {}
    maker = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
    return maker(source, id=cell_id[:64], metadata=meta)


def build(exercise: registry.Exercise, solution: str) -> str:
    """The notebook of `exercise`, as the text of an .ipynb file."""
    from grader.integrations.nbgrader_export import split_module

    source, _ = stubs.split_hints(solution)
    docstring, parts = split_module(source)
    test_file = EXERCISES / f"test_{exercise.module}"
    test_source = test_file.read_text(encoding="utf-8") if test_file.is_file() else ""
    tasks = [stubs.make_stub(code) for _, code in parts]
    placed = checks_by_task(tasks, test_source) if test_source else [[] for _ in tasks]
    heading, _, rest = docstring.partition("\n")
    cells = [
        _cell("markdown", f"# {heading}\n{rest}\n\n{HOW.format(module=exercise.module)}", f"{exercise.id}-instructions", None),
        _cell("code", SETUP, f"{exercise.id}-setup", "setup"),
    ]
    for (label, _), task, checks in zip(parts, tasks, placed):
        slug = label or "module"
        cells.append(_cell("code", task, f"{exercise.id}-task-{slug}", "task"))
        if checks:
            names = ", ".join(json.dumps(c) for c in checks)
            call = f"check({json.dumps(exercise.stem)}, {names})  # the checks of the cell above ({KIT_MARK})"
            cells.append(_cell("code", call, f"{exercise.id}-check-{slug}", "check"))
    cells.append(_cell("markdown", "## Your progress in every exercise", f"{exercise.id}-progress-title", None))
    cells.append(_cell("code", f"progress()  # ({KIT_MARK})", f"{exercise.id}-progress", "progress"))
    notebook = nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
        "language_info": {"name": "python"},
    })
    nbformat.validate(notebook)
    return nbformat.writes(notebook) + "\n"


def student_fingerprint(notebook: str) -> str:
    """The fingerprint of the student cells of a notebook (exercises/_kit/workspace.py computes the same)."""
    cells = json.loads(notebook)["cells"]
    sources = []
    for cell in cells:
        text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        role = cell.get("metadata", {}).get("cnn_kit", {}).get("role")
        if cell["cell_type"] == "code" and role not in KIT_ROLES and KIT_MARK not in text:
            sources.append(text)
    return stubs.text_sha256(json.dumps(sources))
