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
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.grading import discovery
from grader import registry
from grader.grading.engine import ClassReport
from grader.grading.notebook_source import Extraction, module_source, recover_cells  # noqa: F401 (nbgrader's use)
from grader.integrations.nbgrader_export import CONFIG_NAME, hidden_cases

MISSING = "missing modules: "  # how grader.grading.runner starts its message

class NbgraderError(ValueError):
    """The course or assignment cannot be graded as given (one-line message)."""


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
    """Put each student's notebook notes in front of their result's message, and leave out of it
    the modules the assignment does not have (the runner lists every registry module missing)."""
    modules = {registry.by_id(e).module for e in prepared.exercises}
    for result in report.results:
        parts = []
        for part in filter(None, result.message.split("; ")):
            if part.startswith(MISSING):
                missing = [m for m in part.removeprefix(MISSING).split(", ") if m in modules]
                part = f"{MISSING}{', '.join(missing)}" if missing else ""
            parts.append(part)
        result.message = "; ".join(filter(None, [*prepared.notes.get(result.student, []), *parts]))


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
