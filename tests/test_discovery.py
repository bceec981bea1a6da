"""Finding submissions and reading only the registry modules out of them, safely."""

from __future__ import annotations

import os
import stat
import zipfile

import pytest

from grader.grading import discovery

MODULE = "lenet.py"


def make_zip(path, members: dict[str, bytes], links: tuple[str, ...] = ()):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        for name in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return path


def test_folders_and_zips_are_students(tmp_path):
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice" / MODULE).write_text("x = 1\n")
    make_zip(tmp_path / "bob.zip", {"bob/exercises/" + MODULE: b"y = 2\n"})
    (tmp_path / "notes.txt").write_text("ignored")
    (tmp_path / ".hidden").mkdir()
    entries = discovery.discover(tmp_path)
    assert [e.student for e in entries] == ["alice", "bob"]
    assert discovery.read_sources(entries[0]) == {MODULE: b"x = 1\n"}
    assert discovery.read_sources(entries[1]) == {MODULE: b"y = 2\n"}


def test_only_registry_modules_are_taken(tmp_path):
    student = tmp_path / "carol"
    (student / "exercises").mkdir(parents=True)
    for name in ("conftest.py", "sitecustomize.py", "test_lenet.py", "helper.py", "pytest.ini"):
        (student / name).write_text("import os; os._exit(0)\n")
    (student / "exercises" / MODULE).write_text("z = 3\n")
    assert discovery.read_sources(discovery.discover(tmp_path)[0]) == {MODULE: b"z = 3\n"}


@pytest.mark.parametrize("setup, message", [
    (lambda p: None, "no submissions"),
    (lambda p: (p / "a").mkdir() or make_zip(p / "a.zip", {MODULE: b""}), "two submissions for student id 'a'"),
    (lambda p: (p / "bad.zip").write_bytes(b"not a zip"), "not a valid zip"),
    (lambda p: make_zip(p / "evil.zip", {"../" + MODULE: b""}), "unsafe path"),
    (lambda p: make_zip(p / "evil.zip", {"/abs/" + MODULE: b""}), "unsafe path"),
    (lambda p: make_zip(p / "link.zip", {}, links=(MODULE,)), "link"),
])
def test_bad_classes_are_refused_with_one_line(tmp_path, setup, message):
    setup(tmp_path)
    with pytest.raises(discovery.ClassError, match=message) as info:
        for entry in discovery.discover(tmp_path):
            discovery.read_sources(entry)
    assert "\n" not in str(info.value)


def test_missing_folder(tmp_path):
    with pytest.raises(discovery.ClassError, match="no such folder"):
        discovery.discover(tmp_path / "nope")


def test_symlinked_module_is_refused(tmp_path):
    student = tmp_path / "dave"
    student.mkdir()
    secret = tmp_path / "secret.py"
    secret.write_text("solution\n")
    os.symlink(secret, student / MODULE)
    with pytest.raises(discovery.ClassError, match="link"):
        discovery.read_sources(discovery.discover(tmp_path)[0])


def test_non_utf8_is_reported(tmp_path):
    assert discovery.non_utf8({MODULE: b"\xff\xfe x"}) == [MODULE]
