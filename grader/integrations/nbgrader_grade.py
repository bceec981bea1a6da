"""Grade an nbgrader course's submissions with the kit's hidden suites, in the sandbox.

COURSE_DIR/submitted/<student>/<assignment>/<exercise>.ipynb become a class folder of modules
(<student>/<module>.py), graded by the normal engine (grade_class: one sandboxed worker per
submission), and the scores go into nbgrader's gradebook through its own API, cell by cell, so
formgrader and `nbgrader export` show them.

A module is the notebook's code, in order: its solution cells and any code cells the student
added (what nbgrader's kernel runs), without the autograder and setup cells. Broken notebooks
give what can be found, with a note for the gradebook: invalid JSON (code cells are recovered
from the text), solution cells deleted, duplicated or turned into markdown, cells that do not
compile (left out, as the kernel would fail just that cell). One student's broken notebook
never stops the batch.
"""

from __future__ import annotations

import glob
import json
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.grading import discovery
from grader import registry
from grader.grading.results import ClassReport, Note, NoteKind
from grader.integrations.nbgrader_export import CONFIG_NAME, SETUP_SOURCE, hidden_cases

AUTOGRADER_MARKS = ("run_visible(", "run_hidden(", "BEGIN HIDDEN TESTS")
MAX_NOTEBOOK_BYTES = 64 << 20
_STRING = r'"(?:[^"\\]|\\.)*"'
_SOURCE = re.compile(rf'"source"\s*:\s*({_STRING}|\[\s*(?:{_STRING}\s*,?\s*)*\])')
_CELL_TYPE = re.compile(r'"cell_type"\s*:\s*"(\w+)"')
_GRADE_ID = re.compile(rf'"grade_id"\s*:\s*({_STRING})')
_FLAG = re.compile(r'"(grade|solution)"\s*:\s*(true|false)')
_FUTURE = re.compile(r"^from __future__ import .*$", re.M)


class NbgraderError(ValueError):
    """The course or assignment cannot be graded as given (one-line message)."""


@dataclass
class Extraction:
    """A notebook's module source (None when no code was found) and what was odd about it."""

    source: str | None
    notes: list[str] = field(default_factory=list)


@dataclass
class PreparedClass:
    """An nbgrader assignment turned into a class folder the engine can grade."""

    course: Path
    assignment: str
    folder: Path
    exercises: tuple[str, ...]
    notes: dict[str, list[str]]  # student -> what was odd about their notebooks
    db_url: str
    course_id: str
    submitted: dict[str, Path]  # student -> their submitted assignment folder
    timestamps: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # about the course as a whole

    def status(self, student: str) -> str:
        """"ok", or "repaired" when the student's notebooks needed a fallback."""
        return "repaired" if self.notes.get(student) else "ok"


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


def _compiles(code: str, label: str) -> SyntaxError | None:
    try:
        compile(code, label, "exec", dont_inherit=True)
    except SyntaxError as exc:
        return exc
    except (ValueError, TypeError) as exc:  # e.g. a NUL byte in the source
        return SyntaxError(str(exc))
    return None


def _without_magics(code: str) -> str:
    """IPython commands (%magic, !shell) as `pass` lines: the kernel runs them, a module cannot."""
    lines = []
    for line in code.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            line = f"{line[: len(line) - len(stripped)]}pass  # notebook command, not run when graded: {stripped}"
        lines.append(line)
    return "\n".join(lines)


def module_source(path: Path, exercise: str, expected: tuple[str, ...] = ()) -> Extraction:
    """The Python module a student's notebook for `exercise` amounts to.

    `expected` are the grade ids of the notebook's solution cells (from the gradebook), to say
    which ones are missing.
    """
    name = path.name
    notes: list[str] = []
    if path.is_symlink() or not path.is_file():
        what = "is a link, which is not accepted" if path.is_symlink() else "was not submitted"
        return Extraction(None, [f"{name} {what}"])
    if path.stat().st_size > MAX_NOTEBOOK_BYTES:
        return Extraction(None, [f"{name} is larger than {MAX_NOTEBOOK_BYTES >> 20} MiB: not read"])
    text = path.read_bytes().decode("utf-8", "replace")
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
        meta = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
        nbg = meta.get("nbgrader") if isinstance(meta.get("nbgrader"), dict) else {}
        grade_id = nbg.get("grade_id") if isinstance(nbg.get("grade_id"), str) else None
        kind = cell.get("cell_type")
        source = _text(cell.get("source"))
        mine = grade_id is not None and (grade_id == ours or grade_id.startswith(ours + "_"))
        if grade_id is not None:
            ids_seen[grade_id] = ids_seen.get(grade_id, 0) + 1
        label = f"cell {index}" + (f" ({grade_id})" if grade_id else "")
        if (nbg.get("grade") and not nbg.get("solution")) or any(m in source for m in AUTOGRADER_MARKS):
            continue  # an autograder cell: the trusted suite runs the real tests
        if grade_id == f"{exercise}_setup" or source.strip() == SETUP_SOURCE.strip() or not source.strip():
            continue
        if kind != "code":
            if not mine:
                continue
            notes.append(f"{name}: {label} is a {kind} cell, not code: its text was graded as code")
        futures += _FUTURE.findall(source)
        code = _FUTURE.sub("", source)
        error = _compiles(code, label)
        if error is not None and _compiles(_without_magics(code), label) is None:
            code, error = _without_magics(code), None
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


# -- the course ----------------------------------------------------------------------------
def load_coursedir(course: Path) -> Any:
    """nbgrader's CourseDirectory for `course`, with its nbgrader_config.py applied."""
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config
    from traitlets.config.loader import ConfigFileNotFound, PyFileConfigLoader

    course = Path(course).resolve()
    if not course.is_dir():
        raise NbgraderError(f"no such course folder: {course}")
    config = Config()
    if (course / CONFIG_NAME).is_file():
        try:
            config = PyFileConfigLoader(CONFIG_NAME, path=str(course)).load_config()
        except ConfigFileNotFound:
            pass
        except Exception as exc:  # the instructor's config file is Python: anything can go wrong
            raise NbgraderError(f"cannot read {course / CONFIG_NAME}: {type(exc).__name__}: {exc}") from None
    coursedir = CourseDirectory(config=config)
    if "root" not in config.CourseDirectory:
        coursedir.root = str(course)
    return coursedir


def _gradebook(db_url: str, course_id: str) -> Any:
    from nbgrader.api import Gradebook

    if db_url.startswith("sqlite:///") and not Path(db_url.removeprefix("sqlite:///")).is_file():
        raise NbgraderError(f"there is no gradebook at {db_url.removeprefix('sqlite:///')}: "
                            "run `nbgrader generate_assignment NAME` in the course folder first")
    return Gradebook(db_url, course_id)


def prepare(course: Path, assignment: str, target: Path) -> PreparedClass:
    """Write one folder of modules per submitting student into `target` (a new folder)."""
    from nbgrader.api import MissingEntry

    coursedir = load_coursedir(course)
    db_url, course_id = coursedir.db_url, coursedir.course_id
    with _gradebook(db_url, course_id) as gb:
        try:
            found = gb.find_assignment(assignment)
        except MissingEntry:
            raise NbgraderError(f"the gradebook has no assignment {assignment!r}: run "
                                f"`nbgrader generate_assignment {assignment}` in {course} first") from None
        solution_ids = {nb.name: tuple(c.name for c in nb.solution_cells) for nb in found.notebooks}
        graded_ids = {nb.name: {c.name for c in nb.grade_cells} for nb in found.notebooks}
    exercises = tuple(e.id for e in registry.load() if e.id in solution_ids)
    problems = []
    for exercise in exercises:
        current = {c.grade_id for c in hidden_cases(exercise) if c.points}
        exported = {name for name in graded_ids[exercise] if name.startswith(f"{exercise}__")}
        if current != exported:
            problems.append(f"{exercise}: the gradebook's autograder cells differ from the hidden suite's tests "
                            f"({len(exported)} vs {len(current)}): re-export the assignment and run generate_assignment")
    if not exercises:
        raise NbgraderError(f"assignment {assignment!r} has no notebook named after an exercise "
                            f"({', '.join(e.id for e in registry.load())})")
    pattern = coursedir.format_path(coursedir.submitted_directory, "*", assignment)
    regex = re.compile(coursedir.format_path(coursedir.submitted_directory, "(?P<student_id>[^/]+)",
                                             re.escape(assignment), escape=True) + "$")
    submitted: dict[str, Path] = {}
    for name in sorted(glob.glob(pattern)):
        folder = Path(name)
        match = regex.match(name)
        if match and folder.is_dir() and not folder.is_symlink():
            submitted[match.group("student_id")] = folder
    if not submitted:
        raise NbgraderError(f"no submissions of {assignment!r} in {coursedir.format_path(coursedir.submitted_directory, '*', assignment)}")
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    notes: dict[str, list[str]] = {}
    timestamps: dict[str, Any] = {}
    for student, folder in submitted.items():
        found_notes: list[str] = []
        if student.startswith((".", "_")):
            found_notes.append("student ids starting with '.' or '_' cannot be graded")
        out = target / student
        out.mkdir(exist_ok=True)
        for exercise in exercises:
            extraction = module_source(folder / f"{exercise}.ipynb", exercise, solution_ids[exercise])
            found_notes += extraction.notes
            if extraction.source is None:
                continue
            data = extraction.source.encode("utf-8")
            if len(data) > discovery.MAX_MODULE_BYTES:
                found_notes.append(f"{exercise}.ipynb holds more than {discovery.MAX_MODULE_BYTES >> 20} MiB of code: "
                                   "not graded")
                continue
            (out / registry.by_id(exercise).module).write_bytes(data)
        try:
            timestamps[student] = coursedir.get_existing_timestamp(str(folder))
        except Exception:  # nbgrader calls self.fail on a bad timestamp: not ours to stop on
            found_notes.append("timestamp.txt could not be read")
        notes[student] = found_notes
    return PreparedClass(Path(course), assignment, target, exercises, notes, db_url, course_id, submitted,
                         timestamps, problems)


def annotate(report: ClassReport, prepared: PreparedClass) -> None:
    """Put each student's notebook notes in front of their result's notes."""
    for result in report.results:
        result.notes[:0] = [Note(NoteKind.NOTEBOOK, text) for text in prepared.notes.get(result.student, [])]


def write_gradebook(report: ClassReport, prepared: PreparedClass) -> list[str]:
    """Set each autograder cell's auto_score from the matching hidden test; return the students written.

    Students, submissions and grades are created through nbgrader's API where missing. A
    student whose grading failed in the grader itself (no test ran) is left as it was.
    """
    from nbgrader.api import MissingEntry

    from sqlalchemy.exc import SAWarning

    ids = {e: {c.name: c.grade_id for c in hidden_cases(e)} for e in prepared.exercises}
    written = []
    with _gradebook(prepared.db_url, prepared.course_id) as gb, warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)  # nbgrader's add_submission trips SQLAlchemy 2's autoflush
        assignment = gb.find_assignment(prepared.assignment)
        for result in report.results:
            if not result.tests:
                continue
            gb.update_or_create_student(result.student)
            stamp = prepared.timestamps.get(result.student)
            gb.update_or_create_submission(prepared.assignment, result.student, **({"timestamp": stamp} if stamp else {}))
            scores = {ids[t.exercise][t.name]: t.score for t in result.tests
                      if t.name in ids.get(t.exercise, {})}
            for notebook in assignment.notebooks:
                ours = set(ids.get(notebook.name, {}).values())
                for cell in notebook.grade_cells:
                    if cell.name not in ours:
                        continue  # not one of the kit's cells: the instructor's to grade
                    try:
                        grade = gb.find_grade(cell.name, notebook.name, prepared.assignment, result.student)
                    except MissingEntry:
                        continue
                    grade.auto_score = scores.get(cell.name, 0.0)
                    grade.needs_manual_grade = False
            gb.db.commit()
            written.append(result.student)
    return written
