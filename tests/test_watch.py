"""The watch mode, as a student uses it: start it, save a file, read the answer, press Ctrl-C.

Runs with forks (Linux) and with the fallback that Windows and macOS use (a fresh process per
run, started ahead), forced here with --no-fork. Timeouts below only keep a broken watcher from
hanging the suite; speed is measured in bench/watch_latency.py, not asserted."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from grader.paths import DATA, EXERCISES, SOLUTIONS

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT to a process group")


class Watcher:
    """`python exercises/kit.py watch` in its own process group, its output read line by line."""

    def __init__(self, kit: Path, *args: str) -> None:
        env = {**os.environ, "CNN_KIT_DATA": str(DATA), "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen([sys.executable, "exercises/kit.py", "watch", *args], cwd=kit, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def until(self, text: str, limit: float = 180) -> list[str]:
        """The lines up to and including the first that contains `text`."""
        seen: list[str] = []
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                continue
            seen.append(line)
            if text in line:
                return seen
        raise AssertionError(f"the watcher never printed {text!r}; it printed:\n" + "\n".join(seen[-60:]))

    def ctrl_c(self) -> int:
        """Press Ctrl-C in the watcher's terminal (SIGINT to its whole process group); return its exit code."""
        os.killpg(self.proc.pid, signal.SIGINT)
        return self.proc.wait(timeout=60)

    def group_is_empty(self) -> bool:
        try:
            os.killpg(self.proc.pid, 0)
        except ProcessLookupError:
            return True
        return False


@pytest.fixture
def kit(tmp_path: Path) -> Path:
    shutil.copytree(EXERCISES, tmp_path / "exercises", ignore=shutil.ignore_patterns("__pycache__", ".progress.json",
                                                                                     ".pytest_cache", "pictures"))
    return tmp_path


def save(path: Path, text: str) -> None:
    """Save as editors do: write a new file, then rename it over the old one."""
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


@pytest.mark.parametrize("mode", [(), ("--no-fork",)], ids=["fork", "fresh-process"])
def test_watch_answers_each_save_and_leaves_cleanly_on_ctrl_c(kit, mode):
    watcher = Watcher(kit, *mode)
    try:
        start = watcher.until("watching (operations.py checked")
        assert any("-- checking exercises/operations.py --" in line for line in start), "it starts with the next exercise"
        assert ("fork" in start[0]) == (mode == ()), start[0]

        save(kit / "exercises" / "lenet.py", (SOLUTIONS / "lenet.py").read_text())
        answer = watcher.until("watching (lenet.py checked")
        assert any("exercises/lenet.py saved: checking" in line for line in answer)
        assert any(line.split()[2:5] == ["lenet.py", "6/6", "done"] for line in answer if line[:1] in "✔…·?"), answer
        assert any(line.startswith("Progress: 1/") for line in answer)

        broken = (SOLUTIONS / "lenet.py").read_text().replace("return self.fc3(x)", "return F.relu(self.fc3(x))")
        save(kit / "exercises" / "lenet.py", broken)
        answer = watcher.until("watching (lenet.py checked")
        assert any("✘ lenet.py · test_net_any_batch_size" in line for line in answer), answer
    finally:
        code = watcher.ctrl_c()
    rest = []
    while not watcher.lines.empty():
        rest.append(watcher.lines.get())
    assert code == 0
    assert any("Stopped watching." in line for line in rest)
    assert not any("Traceback" in line or "KeyboardInterrupt" in line for line in rest)
    assert watcher.group_is_empty(), "the watcher left a process behind"


def test_a_newer_save_stops_a_run_stuck_in_an_endless_loop(kit):
    watcher = Watcher(kit)
    try:
        watcher.until("watching (operations.py checked")
        looping = (SOLUTIONS / "lenet.py").read_text().replace("        return self.fc3(x)\n",
                                                                "        while True:\n            pass\n")
        save(kit / "exercises" / "lenet.py", looping)
        watcher.until("exercises/lenet.py saved: checking")
        time.sleep(1)  # the run is inside the loop now (its checks time out only after 10 s)
        save(kit / "exercises" / "lenet.py", (SOLUTIONS / "lenet.py").read_text())
        answer = watcher.until("watching (lenet.py checked")
        assert "(stopped: a newer save came)" in answer, answer
        assert any(line.split()[2:5] == ["lenet.py", "6/6", "done"] for line in answer if line[:1] in "✔…·?"), answer
    finally:
        assert watcher.ctrl_c() == 0
    assert watcher.group_is_empty()
