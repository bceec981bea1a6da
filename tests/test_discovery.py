"""Finding submissions and reading only the expected modules out of them, safely: a bad class
stops the run, a bad submission is that student's problem."""

from __future__ import annotations

import os
import stat
import zipfile

import pytest

from grader import registry
from grader.grading import discovery
from grader.grading.results import NoteKind

MODULE = "lenet.py"
ALL = registry.student_modules()


def make_zip(path, members: dict[str, bytes], links: tuple[str, ...] = ()):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        for name in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return path


def read(path, modules=ALL):
    return discovery.read(discovery.discover(path)[0], modules)


def test_folders_and_zips_are_students(tmp_path):
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice" / MODULE).write_text("x = 1\n")
    make_zip(tmp_path / "bob.zip", {"bob/exercises/" + MODULE: b"y = 2\n"})
    (tmp_path / "notes.txt").write_text("ignored")
    (tmp_path / ".hidden").mkdir()
    entries = discovery.discover(tmp_path)
    assert [e.student for e in entries] == ["alice", "bob"]
    assert discovery.read(entries[0], ALL).sources == {MODULE: b"x = 1\n"}
    assert discovery.read(entries[1], ALL).sources == {MODULE: b"y = 2\n"}


def test_only_expected_modules_are_taken(tmp_path):
    student = tmp_path / "carol"
    (student / "exercises").mkdir(parents=True)
    for name in ("conftest.py", "sitecustomize.py", "test_lenet.py", "helper.py", "pytest.ini", "operations.py"):
        (student / name).write_text("import os; os._exit(0)\n")
    (student / "exercises" / MODULE).write_text("z = 3\n")
    assert read(tmp_path, (MODULE,)).sources == {MODULE: b"z = 3\n"}


@pytest.mark.parametrize("setup, message", [
    (lambda p: None, "no submissions"),
    (lambda p: (p / "a").mkdir() or make_zip(p / "a.zip", {MODULE: b""}), "two submissions for student id 'a'"),
])
def test_bad_classes_are_refused_with_one_line(tmp_path, setup, message):
    setup(tmp_path)
    with pytest.raises(discovery.ClassError, match=message) as info:
        discovery.discover(tmp_path)
    assert "\n" not in str(info.value)


def zip_bomb(path):
    """One member that claims and holds 600 MiB of zeros (a few hundred KiB compressed)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("padding.bin", "w", force_zip64=True) as member:
            block = bytes(1 << 20)
            for _ in range(600):
                member.write(block)
        archive.writestr(MODULE, "x = 1\n")


def truncated(path):
    """A zip cut in the middle of its member."""
    whole = make_zip(path, {MODULE: os.urandom(5000)}).read_bytes()
    path.write_bytes(whole[: len(whole) // 2])


def lying_header(path):
    """lenet.py claims 10 bytes but inflates to 3 MiB."""
    make_zip(path, {MODULE: b"#" * (3 << 20)})
    data = bytearray(path.read_bytes())
    for offset in (data.find(b"PK\x03\x04") + 22, data.find(b"PK\x01\x02") + 24):  # uncompressed sizes
        data[offset:offset + 4] = (10).to_bytes(4, "little")
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("setup, message", [
    (lambda p: (p / "bad.zip").write_bytes(b"not a zip"), "not a valid zip"),
    (lambda p: truncated(p / "cut.zip"), "not a valid zip"),
    (lambda p: make_zip(p / "empty.zip", {}), "empty zip"),
    (lambda p: make_zip(p / "other.zip", {"notes.txt": b"hi"}), "none of the expected modules"),
    (lambda p: make_zip(p / "evil.zip", {"../" + MODULE: b""}), "unsafe path"),
    (lambda p: make_zip(p / "evil.zip", {"/abs/" + MODULE: b""}), "unsafe path"),
    (lambda p: make_zip(p / "link.zip", {}, links=(MODULE,)), "link"),
    (lambda p: zip_bomb(p / "bomb.zip"), "zip bomb"),
    (lambda p: make_zip(p / "many.zip", {f"f{i}.txt": b"" for i in range(discovery.MAX_ENTRIES + 1)}), "files"),
    (lambda p: lying_header(p / "liar.zip"), "not a valid zip"),
    (lambda p: (p / "lonely").mkdir(), "none of the expected modules"),
])
def test_unreadable_submissions_are_that_students_problem(tmp_path, setup, message):
    setup(tmp_path)
    before = set(tmp_path.parent.rglob("*"))
    with pytest.raises(discovery.SubmissionError, match=message) as info:
        read(tmp_path)
    assert "\n" not in str(info.value)
    assert set(tmp_path.parent.rglob("*")) == before  # nothing was extracted, here or beside it


def test_links_are_refused(tmp_path):
    secret = tmp_path / "secret.py"
    secret.write_text("solution\n")
    (tmp_path / "class" / "dave").mkdir(parents=True)
    os.symlink(secret, tmp_path / "class" / "dave" / MODULE)
    with pytest.raises(discovery.SubmissionError, match="link"):
        read(tmp_path / "class")
    os.symlink(tmp_path / "class" / "dave", tmp_path / "class" / "erin")
    entries = discovery.discover(tmp_path / "class")
    with pytest.raises(discovery.SubmissionError, match="erin is a link"):
        discovery.read(entries[1], ALL)


def test_a_fifo_is_not_read(tmp_path):
    (tmp_path / "fay").mkdir()
    os.mkfifo(tmp_path / "fay" / MODULE)
    with pytest.raises(discovery.SubmissionError, match="not a regular file"):
        read(tmp_path)


@pytest.mark.parametrize("data, problem", [
    (b"#" * (discovery.MAX_MODULE_BYTES + 1), "larger than 2 MiB"),
    (b"x = 1\n\0\0\0", "binary data"),
    (b"\xff\xfe x = 1", "not Python source text"),
])
def test_oversized_or_binary_modules_are_skipped_with_a_note(tmp_path, data, problem):
    (tmp_path / "gus").mkdir()
    (tmp_path / "gus" / MODULE).write_bytes(data)
    (tmp_path / "gus" / "operations.py").write_text("y = 2\n")
    submission = read(tmp_path)
    assert submission.sources == {"operations.py": b"y = 2\n"}
    note = submission.skipped[MODULE]
    assert note.kind is NoteKind.MODULE_SKIPPED and note.text.startswith(MODULE) and problem in note.text


def test_a_declared_encoding_is_source_text(tmp_path):
    (tmp_path / "hal").mkdir()
    latin = "# -*- coding: latin-1 -*-\nname = 'café'\n".encode("latin-1")
    (tmp_path / "hal" / MODULE).write_bytes(latin)
    assert read(tmp_path).sources == {MODULE: latin}


def test_missing_folder(tmp_path):
    with pytest.raises(discovery.ClassError, match="no such folder"):
        discovery.discover(tmp_path / "nope")
