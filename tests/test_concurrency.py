"""Two gradings on one machine never share a uid, so they never see, limit or kill each other's
workers: uids are leased per grading process through lock files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader import registry
from grader.isolation import processes, uids
from grader.paths import SOLUTIONS

HOSTILE = Path(__file__).parent / "hostile"
TOP = uids.BASE_UID + uids.COUNT - 8  # a corner of the range that gradings reach last
HOLD = "import sys; from grader.isolation import uids; print(uids.lease({first}, 4).uid, flush=True); sys.stdin.read()"


def test_a_uid_leased_by_another_process_is_skipped_until_it_ends():
    holder = subprocess.Popen([sys.executable, "-c", HOLD.format(first=TOP)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        theirs = int(holder.stdout.readline())
        mine = uids.lease(TOP, 4)
        assert theirs == TOP and mine.uid == TOP + 1
    finally:
        holder.communicate("")
    again = uids.lease(TOP, 4)
    assert again.uid == TOP  # the kernel dropped the lock with its holder
    for lease in (mine, again):
        os.close(lease.fd)


@pytest.mark.skipif(os.geteuid() != 0, reason="starting a process as another uid needs root")
def test_a_leased_uid_starts_with_nothing_left_of_a_dead_grading():
    """A process of the uid that no lease covers is what a killed grading left: it is killed."""
    leftover = subprocess.Popen(["setpriv", f"--reuid={TOP + 2}", f"--regid={TOP + 2}", "--clear-groups",
                                 "sleep", "600"], start_new_session=True)
    bystander = subprocess.Popen(["sleep", "600"])
    try:
        while processes.of_uids([TOP + 2]) != [leftover.pid]:  # until setpriv has become the uid
            assert leftover.poll() is None
            time.sleep(0.01)
        lease = uids.lease(TOP + 2, 1)
        assert leftover.wait(timeout=10) == -9
        assert bystander.poll() is None and processes.of_uids([TOP + 2]) == []
        os.close(lease.fd)
    finally:
        for proc in (leftover, bystander):
            proc.kill()
            proc.wait()


def make_class(folder: Path) -> Path:
    """A perfect lenet beside a fork bomb, a daemon and one that kills every process it may."""
    for student, source in (("perfect", SOLUTIONS / "lenet.py"), ("fork_bomb", HOSTILE / "fork_bomb.py"),
                            ("daemon", HOSTILE / "daemon.py"), ("kill_grader", HOSTILE / "kill_grader.py")):
        (folder / student).mkdir(parents=True)
        shutil.copy(source, folder / student / "lenet.py")
    return folder


def test_two_gradings_started_together_grade_correctly_and_apart(tmp_path, isolation):
    grader = Path(sys.executable).parent / "grader"
    runs = []
    for name in ("a", "b"):
        klass = make_class(tmp_path / name)
        command = [str(grader), "score", str(klass), "-e", "lenet", "--jobs", "2", "--no-cache", "--timeout", "120",
                   "--test-timeout", "15", "--json", str(tmp_path / f"{name}.json")]
        runs.append(subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    outputs = [run.communicate(timeout=900)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    reports = [json.loads((tmp_path / f"{name}.json").read_text()) for name in ("a", "b")]
    points = registry.by_id("lenet").points
    for report in reports:
        scores = {s["student"]: s["score"] for s in report["submissions"]}
        assert scores == {"perfect": points, "fork_bomb": 0, "daemon": 0, "kill_grader": 0}
    first, second = (set(report["run"]["uids"]) for report in reports)
    assert len(first) == len(second) == 2 and not first & second
    assert processes.of_uids(first | second) == []
