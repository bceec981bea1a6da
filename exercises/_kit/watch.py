"""`python exercises/kit.py watch`: re-check an exercise each time one of its files is saved.

Part of the kit: no need to edit. Most of a cold `pytest` run is starting Python and importing
torch (about 2 s), while one exercise's checks take a fraction of a second. So the watcher
imports torch, pytest and the kit once, and each run starts from that state:

- on Linux, each run is a fork of the watcher (copy-on-write: nothing is imported again);
- where fork is unavailable or unsafe (Windows, macOS, or --no-fork), each run gets a fresh
  process, started and warmed up ahead of time while the watcher waits for the next save.

Saves are found by polling the exercise files' size and time stamp forty times a second: it
needs no extra package and works on every file system, including network and container mounts
where change notifications do not arrive. Ctrl-C stops the run in progress and the watcher.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from _kit import catalog, progress, summary
from _kit.catalog import EXERCISES_DIR, Exercise

POLL = 0.025  # seconds between two looks at the files
SETTLE = 0.025  # a save is complete when the file has not changed for this long
PRELOAD = ("torch", "torch.nn.functional", "torch.optim", "torch.utils.data", "torchvision", "torchvision.transforms",
           "torchvision.utils", "numpy", "PIL.Image", "matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg",
           "pytest", "pytest_timeout", "_kit.plugin", "_kit.explain", "_kit.datasets")
READY = "watching"  # the line that says the watcher waits for a save


def can_fork() -> bool:
    """Fork only where it is safe with torch loaded: Linux (macOS's system libraries are not fork-safe)."""
    return hasattr(os, "fork") and sys.platform.startswith("linux")


def preload() -> None:
    """Import what the checks use and warm torch up on one thread, so that each run starts warm.

    One thread: the watcher must never start OpenMP's thread pool, which a forked child cannot use;
    the checks run on one thread anyway (the kit's plugin sets it)."""
    import torch

    if "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(1)
    for name in PRELOAD:
        importlib.import_module(name)
    from _pytest.config import default_plugins

    for name in default_plugins:
        importlib.import_module(f"_pytest.{name}")
    for entry in importlib.metadata.entry_points(group="pytest11"):  # the plugins pytest loads by itself
        try:
            entry.load()
        except Exception:  # a broken third-party plugin: pytest will say so in the run itself
            continue
    import torch.nn.functional as F

    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
                              torch.nn.Linear(2 * 3 * 3, 3))
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    F.cross_entropy(net(torch.randn(2, 1, 8, 8)), torch.tensor([0, 1])).backward()
    optimizer.step()


def pytest_args(exercise: Exercise) -> list[str]:
    # the watcher imported the kit's plugin and pytest-timeout already: pytest cannot rewrite their asserts, and need not
    return [str(exercise.test_file), "--no-header", "-p", "no:cacheprovider", "--rootdir", str(EXERCISES_DIR),
            "-W", "ignore::pytest.PytestAssertRewriteWarning"]


def run_here(args: list[str]) -> int:
    """One run of the checks in this process (a fork, or a fresh process); return pytest's exit code."""
    import pytest

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the watcher, which ends this run
    try:
        return int(pytest.main(args))
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


class Runner:
    """Starts runs of the checks: forks of this process, or fresh processes started ahead of time."""

    def __init__(self, fork: bool) -> None:
        self.fork = fork
        self.spare: subprocess.Popen[bytes] | None = None  # a fresh process, warm, waiting for its run
        self.run: int | subprocess.Popen[bytes] | None = None  # the run in progress: a pid, or a process

    def warm(self) -> None:
        """Get ready for the next run: import everything here, or start a fresh process that does."""
        if self.fork:
            preload()
            import gc

            gc.collect()
            gc.freeze()  # the forks share these pages instead of copying them
        elif self.spare is None:
            code = f"import sys; sys.path.insert(0, {str(EXERCISES_DIR)!r}); from _kit import watch; watch.serve()"
            self.spare = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE)

    def start(self, exercise: Exercise) -> None:
        """Start checking `exercise`; its output goes straight to this terminal."""
        args = pytest_args(exercise)
        if self.fork:
            pid = os.fork()
            if pid == 0:
                code = 1
                try:
                    code = run_here(args)
                finally:
                    os._exit(code)
            self.run = pid
            return
        self.warm()
        assert self.spare is not None and self.spare.stdin is not None
        self.spare.stdin.write((json.dumps(args) + "\n").encode())
        self.spare.stdin.close()
        self.run, self.spare = self.spare, None

    def ended(self) -> bool:
        """True when the run in progress has just ended (then the next fresh process starts warming up)."""
        if self.run is None:
            return False
        if isinstance(self.run, int):
            if os.waitpid(self.run, os.WNOHANG)[0] == 0:
                return False
        elif self.run.poll() is None:
            return False
        self.run = None
        if not self.fork:
            self.warm()
        return True

    def stop(self) -> None:
        """End the run in progress: a newer save came, or Ctrl-C."""
        if isinstance(self.run, int):
            os.kill(self.run, signal.SIGKILL)
            os.waitpid(self.run, 0)
        elif self.run is not None:
            self.run.kill()
            self.run.wait()
        self.run = None

    def close(self) -> None:
        """End every process this runner started."""
        self.stop()
        if self.spare is not None:
            self.spare.kill()
            self.spare.wait()
            self.spare = None


def serve() -> None:
    """A fresh process for one run: warm up, wait for the run's arguments on stdin, run, exit."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    preload()
    line = sys.stdin.readline()
    if line:
        sys.exit(run_here(json.loads(line)))


def files(exercise: Exercise) -> list[Path]:
    return [exercise.path, exercise.notebook, exercise.test_file]


def snapshot() -> dict[Path, tuple[int, int]]:
    """(size, time stamp) of every file of every exercise that exists."""
    seen = {}
    for exercise in catalog.exercises():
        for path in files(exercise):
            try:
                stat = path.stat()
            except OSError:
                continue
            seen[path] = (stat.st_size, stat.st_mtime_ns)
    return seen


def changed(before: dict[Path, tuple[int, int]], after: dict[Path, tuple[int, int]]) -> list[Exercise]:
    """The exercises whose files differ between two snapshots, in registry order."""
    paths = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
    return [e for e in catalog.exercises() if any(p in paths for p in files(e))]


def say(text: str) -> None:
    print(text, flush=True)


def watch(fork: bool = True) -> int:
    """Watch the exercises and re-check the one saved; return the exit code (0 after Ctrl-C)."""
    runner = Runner(fork and can_fork())
    how = "each run a fork of this process" if runner.fork else "each run a fresh process, started ahead"
    try:
        say(f"Starting the watcher ({how}): importing torch once...")
        runner.warm()
        seen = snapshot()
        standings = [s for s in (summary.standing(e, progress.load()) for e in catalog.exercises())
                     if s.status is not summary.Status.DONE]
        working = [s for s in standings if s.status in (summary.Status.IN_PROGRESS, summary.Status.UNCHECKED)]
        current = (working or standings)[0].exercise if standings else None  # the one in progress, else the next
        started = time.monotonic()
        if current is None:
            say(f"{READY}: every exercise is done; save a file to check it again, Ctrl-C to stop")
        else:
            say(f"-- checking exercises/{current.module} --")
            runner.start(current)
        while True:
            time.sleep(POLL)
            now = snapshot()
            saved = changed(seen, now)
            if saved:
                time.sleep(SETTLE)
                if snapshot() != now:
                    continue  # still being written: look again
                seen = now
                if runner.run is not None:
                    runner.stop()
                    say("\n(stopped: a newer save came)")  # the run may have stopped mid-line
                current = saved[-1]
                say(f"-- {time.strftime('%H:%M:%S')} exercises/{current.module} saved: checking --")
                started = time.monotonic()
                runner.start(current)
            elif runner.ended() and current is not None:
                say(f"{READY} ({current.module} checked in {time.monotonic() - started:.2f} s): save an exercise "
                    "to check it, Ctrl-C to stop")
    except KeyboardInterrupt:
        runner.close()
        say("\nStopped watching. Your progress is kept: `python exercises/kit.py progress` shows it.")
        return 0
