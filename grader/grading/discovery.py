"""Find a class's submissions and read the registry modules out of each, safely.

A class folder holds one entry per student: a folder or a .zip named by the student id.
The modules may sit at the entry's root, under exercises/, or under one top-level folder
(as zipping a folder produces). Only registry modules are read (or a notebook <stem>.ipynb in place
of one: grader.grading.notebook_source); nothing else is used.
"""

from __future__ import annotations

import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from grader.grading import notebook_source

MAX_MODULE_BYTES = 2 << 20


class ClassError(ValueError):
    """The class folder or one of its entries cannot be graded as given (one-line message)."""


@dataclass(frozen=True)
class Entry:
    """One student's submission on disk."""

    student: str
    path: Path


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
        if path.is_symlink():
            raise ClassError(f"{path} is a link: copy the submission in instead")
        if path.is_dir():
            student = path.name
        elif path.suffix.lower() == ".zip":
            student = path.stem
        else:
            continue
        if student in entries:
            raise ClassError(f"two submissions for student id {student!r}: {entries[student].path.name} and {path.name}")
        entries[student] = Entry(student, path)
    if not entries:
        raise ClassError(f"no submissions in {folder}: expected one folder or .zip per student")
    return list(entries.values())


def read_sources(entry: Entry) -> dict[str, bytes]:
    """The registry modules of one submission: file name -> bytes (a notebook may stand for its module)."""
    found = _from_folder(entry.path) if entry.path.is_dir() else _from_zip(entry.path)
    return notebook_source.resolve(found)


def _acceptable(parts: tuple[str, ...]) -> bool:
    """A module may sit at the root, under exercises/, or under one top folder (and its exercises/)."""
    prefix = parts[:-1]
    return len(prefix) <= 1 or (len(prefix) == 2 and prefix[1] == "exercises")


def _pick(members: list[str]) -> dict[str, str]:
    """Map each registry module to the shallowest member that provides it."""
    chosen: dict[str, str] = {}
    for member in sorted(members, key=lambda m: (len(PurePosixPath(m).parts), m)):
        parts = PurePosixPath(member).parts
        if parts and parts[-1] in notebook_source.accepted_names() and _acceptable(parts):
            chosen.setdefault(parts[-1], member)
    return chosen


def _from_folder(folder: Path) -> dict[str, bytes]:
    members = []
    for pattern in ("*.py", "exercises/*.py", "*/*.py", "*/exercises/*.py", "*.ipynb", "exercises/*.ipynb",
                    "*/*.ipynb", "*/exercises/*.ipynb"):
        members += [p.relative_to(folder).as_posix() for p in folder.glob(pattern)]
    sources = {}
    for module, member in _pick(members).items():
        path = folder / member
        if any((folder / Path(*PurePosixPath(member).parts[: i + 1])).is_symlink()
               for i in range(len(PurePosixPath(member).parts))):
            raise ClassError(f"{path} is a link: links are not accepted in submissions")
        if path.stat().st_size > MAX_MODULE_BYTES:
            raise ClassError(f"{path} is larger than {MAX_MODULE_BYTES >> 20} MiB")
        sources[module] = path.read_bytes()
    return sources


def _from_zip(path: Path) -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            for info in infos:
                name = PurePosixPath(info.filename)
                if name.is_absolute() or ".." in name.parts or "\\" in info.filename:
                    raise ClassError(f"{path} holds an unsafe path {info.filename!r}: refusing to read it")
                if stat.S_ISLNK(info.external_attr >> 16):
                    raise ClassError(f"{path} holds a link {info.filename!r}: links are not accepted in submissions")
            members = [i.filename for i in infos if not i.is_dir()]
            sources = {}
            for module, member in _pick(members).items():
                info = archive.getinfo(member)
                if info.file_size > MAX_MODULE_BYTES:
                    raise ClassError(f"{path}: {member} is larger than {MAX_MODULE_BYTES >> 20} MiB")
                sources[module] = archive.read(member)
            return sources
    except zipfile.BadZipFile as exc:
        raise ClassError(f"{path} is not a valid zip file ({exc}): fix or remove it, then re-run") from None
    except (zipfile.LargeZipFile, NotImplementedError, RuntimeError, OSError) as exc:
        raise ClassError(f"{path} cannot be read ({exc}): fix or remove it, then re-run") from None


def non_utf8(sources: dict[str, bytes]) -> list[str]:
    """The modules that are not valid UTF-8 (Python will refuse to import them)."""
    bad = []
    for name, data in sources.items():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            bad.append(name)
    return bad
