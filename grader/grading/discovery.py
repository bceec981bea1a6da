"""Find a class's submissions and read the expected modules out of each, safely.

A class folder holds one entry per student: a folder or a .zip named by the student id.
The modules may sit at the entry's root, under exercises/, or under one top-level folder
(as zipping a folder produces). Only the expected modules are read (or a notebook <stem>.ipynb in
place of one: grader.grading.notebook_source), into memory: nothing of a submission is ever
extracted to disk, and nothing else of it is used.

Two kinds of problem: a class that cannot be graded as given (no such folder, no submissions,
two submissions for one student) raises ClassError; one submission that cannot be read (a
corrupt, empty or unsafe zip, a link, a zip bomb) raises SubmissionError, which is that
student's problem alone. A module that is too large or not source text is left out, with a note.
"""

from __future__ import annotations

import io
import os
import stat
import tokenize
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import NamedTuple

from grader.grading import notebook_source
from grader.grading.results import Note, NoteKind

MAX_MODULE_BYTES = 2 << 20
MAX_NOTEBOOK_BYTES = 16 << 20  # a notebook handed in with its outputs (pictures) is larger than its code
MAX_ENTRIES = 10_000  # members of one zip
MAX_UNPACKED_BYTES = 512 << 20  # what all members of one zip claim to unpack to


class ClassError(ValueError):
    """The class folder cannot be graded as given (one-line message)."""


class SubmissionError(ValueError):
    """One student's submission cannot be read (one-line message, for that student's gradebook row)."""


class Entry(NamedTuple):
    """One student's submission on disk."""

    student: str
    path: Path


@dataclass(frozen=True)
class Submission:
    """What could be read of one submission: module name -> source, and the modules left out (why)."""

    sources: dict[str, bytes]
    skipped: dict[str, Note] = field(default_factory=dict)


def discover(folder: Path) -> list[Entry]:
    """The submissions in `folder`, sorted by student id."""
    folder = Path(folder)
    if not folder.exists():
        raise ClassError(f"no such folder: {folder}")
    if not folder.is_dir():
        raise ClassError(f"not a folder: {folder}")
    entries: dict[str, Entry] = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.name.startswith("_"):
            continue
        if path.is_dir() or path.is_symlink():
            student = path.name
        elif path.suffix.lower() == ".zip":
            student = path.stem
        else:
            continue
        if student in entries:
            raise ClassError(f"two submissions for student id {student!r}: {entries[student].path.name} and "
                             f"{path.name}")
        entries[student] = Entry(student, path)
    if not entries:
        raise ClassError(f"no submissions in {folder}: expected one folder or .zip per student")
    return list(entries.values())


def read(entry: Entry, modules: tuple[str, ...]) -> Submission:
    """The expected `modules` of one submission, or SubmissionError saying why it cannot be read."""
    if entry.path.is_symlink():
        raise SubmissionError(f"{entry.path.name} is a link: links are not accepted in submissions")
    names = (*modules, *(f"{m.removesuffix('.py')}.ipynb" for m in modules))
    try:
        files = _from_folder(entry.path, names) if entry.path.is_dir() else _from_zip(entry.path, names)
    except OSError as exc:
        raise SubmissionError(f"{entry.path.name} cannot be read ({exc.strerror or exc})") from None
    found = {name: data for name, data in notebook_source.resolve(files).items() if name in modules}
    sources: dict[str, bytes] = {}
    skipped: dict[str, Note] = {}
    for module, data in found.items():
        problem = _module_problem(module, data)
        if problem:
            skipped[module] = Note(NoteKind.MODULE_SKIPPED, f"{module} {problem}: it was not graded")
        else:
            sources[module] = data
    if not found:
        raise SubmissionError(f"{entry.path.name} holds none of the expected modules ({', '.join(modules)})")
    return Submission(sources, skipped)


def _module_problem(module: str, data: bytes) -> str:
    """Why a module cannot be graded ("" when it can)."""
    if len(data) > MAX_MODULE_BYTES:
        return f"is larger than {MAX_MODULE_BYTES >> 20} MiB"
    if b"\0" in data:
        return "is not Python source text (it holds binary data)"
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        data.decode(encoding)
    except (SyntaxError, UnicodeDecodeError, LookupError) as exc:
        return f"is not Python source text ({exc})"
    return ""


def _acceptable(parts: tuple[str, ...]) -> bool:
    """A module may sit at the root, under exercises/, or under one top folder (and its exercises/)."""
    prefix = parts[:-1]
    return len(prefix) <= 1 or (len(prefix) == 2 and prefix[1] == "exercises")


def _pick(members: list[str], modules: tuple[str, ...]) -> dict[str, str]:
    """Map each expected module to the shallowest member that provides it."""
    chosen: dict[str, str] = {}
    for member in sorted(members, key=lambda m: (len(PurePosixPath(m).parts), m)):
        parts = PurePosixPath(member).parts
        if parts and parts[-1] in modules and _acceptable(parts):
            chosen.setdefault(parts[-1], member)
    return chosen


def _cap(name: str) -> int:
    """How much of a file is read: one byte more than it may hold, so that too large shows."""
    return (MAX_NOTEBOOK_BYTES if name.endswith(".ipynb") else MAX_MODULE_BYTES) + 1


def _from_folder(folder: Path, modules: tuple[str, ...]) -> dict[str, bytes]:
    members = []
    for pattern in ("*.py", "exercises/*.py", "*/*.py", "*/exercises/*.py", "*.ipynb", "exercises/*.ipynb",
                    "*/*.ipynb", "*/exercises/*.ipynb"):
        members += [p.relative_to(folder).as_posix() for p in folder.glob(pattern)]
    found = {}
    for module, member in _pick(members, modules).items():
        parts = PurePosixPath(member).parts
        if any((folder / Path(*parts[: i + 1])).is_symlink() for i in range(len(parts))):
            raise SubmissionError(f"{folder.name}/{member} is a link: links are not accepted in submissions")
        if not stat.S_ISREG(os.lstat(folder / member).st_mode):
            raise SubmissionError(f"{folder.name}/{member} is not a regular file")
        with open(folder / member, "rb") as f:
            found[module] = f.read(_cap(module))
    return found


def _from_zip(path: Path, modules: tuple[str, ...]) -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            if not infos:
                raise SubmissionError(f"{path.name} is an empty zip file")
            _check_members(path, infos)
            found = {}
            for module, member in _pick([i.filename for i in infos if not i.is_dir()], modules).items():
                with archive.open(member) as f:  # never more than the cap, whatever the header claims
                    found[module] = f.read(_cap(module))
            return found
    except SubmissionError:
        raise
    except zipfile.BadZipFile as exc:
        raise SubmissionError(f"{path.name} is not a valid zip file ({exc})") from None
    except (zipfile.LargeZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError, ValueError) as exc:
        raise SubmissionError(f"{path.name} cannot be unpacked ({exc})") from None


def _check_members(path: Path, infos: list[zipfile.ZipInfo]) -> None:
    """Refuse a zip with unsafe paths, links, or more than a submission could hold (a zip bomb)."""
    if len(infos) > MAX_ENTRIES:
        raise SubmissionError(f"{path.name} holds {len(infos):,} files, more than the {MAX_ENTRIES:,} accepted")
    if sum(i.file_size for i in infos) > MAX_UNPACKED_BYTES:
        raise SubmissionError(f"{path.name} would unpack to more than {MAX_UNPACKED_BYTES >> 20} MiB (a zip bomb?)")
    for info in infos:
        name = PurePosixPath(info.filename)
        if name.is_absolute() or ".." in name.parts or "\\" in info.filename:
            raise SubmissionError(f"{path.name} holds an unsafe path {info.filename!r}")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise SubmissionError(f"{path.name} holds a link {info.filename!r}: links are not accepted in submissions")
