"""Every worker is bounded in disk, files and memory from the host's side: a submission that
writes 3 GiB or a million files, or allocates past its memory quota, gets status `error` and a
note saying which quota it ran into, the host's disk is untouched, and the others grade normally."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path

import pytest

from grader import registry
from grader.grading.engine import grade_class
from grader.grading.options import GradeOptions
from grader.grading.results import NoteKind, Status
from grader.inside.limits import Limits
from grader.isolation import cgroup, processes
from grader.isolation.quota import Quota
from grader.paths import SOLUTIONS

LENET = (SOLUTIONS / "lenet.py").read_text()
POINTS = registry.by_id("lenet").points
QUOTA = Quota(disk_bytes=64 << 20, files=2_000, memory_bytes=1 << 30)
LIMITS = Limits(memory_bytes=5 << 30, file_bytes=32 << 20)

WRITES_3_GIB = '''
import os
block = b"x" * (1 << 20)
for folder in ("/sub", "/tmp"):
    written, n = 0, 0
    try:
        while written < 3 << 30:  # in files of 16 MiB: each stays under the file-size limit
            with open(f"{folder}/blob{n}", "wb") as f:
                for _ in range(16):
                    f.write(block)
                    written += len(block)
            n += 1
    except OSError:
        pass
'''

MILLION_FILES = '''
import os
os.makedirs("/tmp/many", exist_ok=True)
try:
    for i in range(1_000_000):
        open(f"/tmp/many/{i}", "w").close()
except OSError:
    pass
'''

MEMORY_HOG = '''
hog = []
for _ in range(3 * 1024):  # 3 GiB, a MiB at a time, each page touched: under the 5 GiB rlimit
    hog.append(bytearray(1 << 20))
'''


class DiskWatch:
    """The lowest free space of the host's disk (where the kit and /tmp live) while it runs."""

    def __init__(self, path: Path) -> None:
        self.path, self.lowest, self.before = path, shutil.disk_usage(path).free, shutil.disk_usage(path).free
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.wait(0.05):
            self.lowest = min(self.lowest, shutil.disk_usage(self.path).free)

    def __enter__(self) -> DiskWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@pytest.fixture(scope="module")
def graded(tmp_path_factory, isolation):
    klass = tmp_path_factory.mktemp("quota")
    for student, prelude in (("writes_3_gib", WRITES_3_GIB), ("million_files", MILLION_FILES),
                             ("memory_hog", MEMORY_HOG), ("perfect", "")):
        (klass / student).mkdir()
        (klass / student / "lenet.py").write_text(prelude + "\n" + LENET)
    options = GradeOptions(isolation=isolation, exercises=("lenet",), quota=QUOTA, limits=LIMITS, call_timeout=60)
    with DiskWatch(Path(tempfile.gettempdir())) as disk:
        report = grade_class(klass, options, jobs=2)
    used = (disk.before - disk.lowest) / 2**20
    print(f"\nhost disk: {disk.before / 2**30:.1f} GiB free before, at least {disk.lowest / 2**30:.1f} GiB during "
          f"(at most {used:.0f} MiB used by the whole machine meanwhile)")
    return report, disk


def notes(result, kind: NoteKind) -> list[str]:
    return [n.text for n in result.notes if n.kind is kind]


def test_the_disk_quota_holds_and_is_reported(graded):
    report, disk = graded
    result = {r.student: r for r in report.results}["writes_3_gib"]
    assert result.status is Status.ERROR
    assert any("filled its 64 MiB of disk" in text for text in notes(result, NoteKind.QUOTA)), result.notes
    assert result.score == POINTS, "the work itself is right: its checks still pass"
    assert disk.before - disk.lowest < 1 << 30, "3 GiB were written, none of it on the host's disk"


def test_the_file_quota_holds_and_is_reported(graded):
    report, _ = graded
    result = {r.student: r for r in report.results}["million_files"]
    assert result.status is Status.ERROR
    assert any("created 2,000 files" in text for text in notes(result, NoteKind.QUOTA)), result.notes
    assert result.score == POINTS


def test_the_memory_quota_holds_and_is_reported(graded):
    if not cgroup.available():
        pytest.skip("no memory cgroup can be made on this machine: memory is bounded by rlimits alone")
    report, _ = graded
    result = {r.student: r for r in report.results}["memory_hog"]
    assert result.status is Status.ERROR and result.score == 0
    assert any("more than its 1024 MiB of memory" in text for text in notes(result, NoteKind.QUOTA)), result.notes


def test_the_others_grade_normally_and_nothing_is_left(graded):
    report, _ = graded
    perfect = {r.student: r for r in report.results}["perfect"]
    assert perfect.status is Status.GRADED and perfect.score == POINTS and not perfect.notes
    assert processes.of_uids(report.uids) == []
    if cgroup.available():
        folder, _ = cgroup.parent()
        ours = [p for uid in report.uids for p in folder.glob(f"cnn-kit-{uid}-{os.getpid()}-*")]
        assert not ours, "every worker's cgroup is removed (this run's own: another grading may hold others)"
