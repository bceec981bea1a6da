"""Benchmarks of the student's loop, printed as a table and kept in bench/results-student.json.

    .venv/bin/python bench/student_loop.py [--saves 25] [--repeats 5] [--out FILE]

(a) the visible suite: `pytest exercises/` on the solutions against a bare `import torch`,
    medians of runs taken in turn so that both see the same machine load (target: at most 2.5 x);
(w) the watch mode: from the moment a file is saved to the moment the watcher has printed the
    whole answer and is ready again, over `--saves` saves of exercises/lenet.py (checks well under
    0.3 s), median and 95th percentile, with forks and with the fresh-process fallback (targets:
    0.5 s median, 1 s p95); beside a cold `pytest exercises/test_lenet.py`, median of `--repeats`.
Times drift on a shared machine: compare the figures of one run.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.figures import print_table  # noqa: E402
from grader import registry  # noqa: E402
from grader.paths import DATA, EXERCISES, SOLUTIONS  # noqa: E402

RESULTS = ROOT / "bench" / "results-student.json"
ENV = {**os.environ, "CNN_KIT_DATA": str(DATA), "PYTHONUNBUFFERED": "1"}


def kit_copy(target: Path, solved: tuple[str, ...]) -> Path:
    shutil.copytree(EXERCISES, target / "exercises", ignore=shutil.ignore_patterns("__pycache__", "pictures",
                                                                                  ".progress.json", ".pytest_cache"))
    for module in solved:
        shutil.copy(SOLUTIONS / module, target / "exercises" / module)
    return target


def timed(cmd: list[str], cwd: Path | None = None) -> float:
    started = time.monotonic()
    subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True, check=False)
    return time.monotonic() - started


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def visible_suite(repeats: int = 5) -> dict[str, float]:
    """(a) pytest exercises/ on the solutions vs python -c 'import torch', taken in turn."""
    suite, torch = [], []
    with tempfile.TemporaryDirectory() as tmp:
        kit = kit_copy(Path(tmp), registry.student_modules())
        for _ in range(repeats):
            suite.append(timed([sys.executable, "-m", "pytest", "exercises", "-q", "-p", "no:cacheprovider"], kit))
            torch.append(timed([sys.executable, "-c", "import torch"]))
    return {"visible_suite_s": statistics.median(suite), "import_torch_s": statistics.median(torch),
            "ratio": statistics.median(suite) / statistics.median(torch)}


def cold_lenet(repeats: int = 5) -> float:
    """A cold `pytest exercises/test_lenet.py` on the solution, median of `repeats`."""
    with tempfile.TemporaryDirectory() as tmp:
        kit = kit_copy(Path(tmp), ("lenet.py",))
        return statistics.median(timed([sys.executable, "-m", "pytest", "exercises/test_lenet.py", "-q"], kit)
                                 for _ in range(repeats))


def watch_latency(saves: int = 25, fork: bool = True) -> list[float]:
    """Seconds from each save of lenet.py to the watcher's 'watching' line after its answer."""
    with tempfile.TemporaryDirectory() as tmp:
        kit = kit_copy(Path(tmp), ("lenet.py",))
        module = kit / "exercises" / "lenet.py"
        source = module.read_text()
        proc = subprocess.Popen([sys.executable, "exercises/kit.py", "watch", *(() if fork else ("--no-fork",))],
                                cwd=kit, env=ENV, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        lines: queue.Queue[tuple[float, str]] = queue.Queue()

        def read() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.put((time.monotonic(), line))

        def until(text: str) -> float:
            while True:
                stamp, line = lines.get(timeout=120)
                if text in line:
                    return stamp

        threading.Thread(target=read, daemon=True).start()
        try:
            until("watching (")
            times = []
            for i in range(saves):
                time.sleep(0.5 if fork else 5.0)  # a student types between saves (the fallback warms its next process)
                new = module.with_suffix(".tmp")
                new.write_text(f"{source}\n# save {i}\n")
                saved = time.monotonic()
                os.replace(new, module)
                times.append(until("watching (lenet.py checked") - saved)
            return times
        finally:
            proc.terminate()
            proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--saves", type=int, default=25)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    results: dict[str, object] = {"date": time.strftime("%Y-%m-%d %H:%M"), "cores": os.cpu_count(),
                                  "load": os.getloadavg()[0] if hasattr(os, "getloadavg") else None}
    results["visible_suite"] = visible_suite(args.repeats)
    results["cold_lenet_s"] = cold_lenet(args.repeats)
    for name, fork in (("watch_fork", True), ("watch_fresh_process", False)):
        times = watch_latency(args.saves, fork)
        results[name] = {"saves": len(times), "median_s": statistics.median(times), "p95_s": percentile(times, 0.95),
                         "max_s": max(times)}
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    s = results["visible_suite"]
    rows = [("(a) pytest exercises/ on the solutions", f"{s['visible_suite_s']:.2f} s",
             f"{s['ratio']:.2f} x a bare import torch ({s['import_torch_s']:.2f} s), medians of {args.repeats}"),
            ("(w) cold pytest exercises/test_lenet.py", f"{results['cold_lenet_s']:.2f} s",
             f"median of {args.repeats}")]
    for name, label in (("watch_fork", "(w) watch, save -> answer, forks"), ("watch_fresh_process",
                                                                             "(w) watch, fresh-process fallback")):
        w = results[name]
        rows.append((label, f"{w['median_s']:.2f} s", f"median of {w['saves']} saves; p95 {w['p95_s']:.2f} s, "
                                                      f"max {w['max_s']:.2f} s"))
    print_table(rows, f"(load average {results['load']}; kept in {args.out})")


if __name__ == "__main__":
    main()
