"""Benchmarks for the kit, printed as a table and kept in bench/results.json.

    .venv/bin/python bench/run.py [--class-size 24] [--skip-nbgrader] [--out FILE]

(a) the student loop: `pytest exercises/` on the solutions, beside a bare `import torch` (bench/student_loop.py
    measures it, and the watch mode's latency);
(b) grading throughput: seconds per submission for a mixed class with `grader score --jobs 2`,
    beside `nbgrader autograde` on the same work exported as notebooks;
(c) the floor: the hidden suite's own test time on the solutions in one warm process, and the
    grader's overhead ratio: total wall x jobs / (submissions x floor);
(d) peak memory of the grading run (all its processes together);
(e) the MNIST training check, on the CPU and on a GPU when there is one;
(f) the time and size the class report (--report) adds.
Times drift between runs on a shared machine: compare ratios within one run.
"""

from __future__ import annotations

import argparse
import json
import os
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

import torch  # noqa: E402

from bench.figures import print_table  # noqa: E402
from bench.student_loop import visible_suite  # noqa: E402
from grader import registry  # noqa: E402
from grader.paths import EXERCISES, SOLUTIONS  # noqa: E402

BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results.json"


def timed(cmd: list[str], **kwargs) -> float:
    started = time.monotonic()
    subprocess.run(cmd, check=True, capture_output=True, **kwargs)
    return time.monotonic() - started


def mixed_class(folder: Path, size: int) -> dict[str, str]:
    """A class of `size`: a third full, a third partial (first half of the exercises), a third stubs."""
    modules = registry.student_modules()
    kinds = {}
    for i in range(size):
        kind = ("full", "partial", "stub")[i % 3]
        student = folder / f"{kind}_{i:02d}"
        student.mkdir(parents=True)
        for j, module in enumerate(modules):
            done = kind == "full" or (kind == "partial" and j < len(modules) // 2)
            shutil.copy((SOLUTIONS if done else EXERCISES) / module, student / module)
        kinds[student.name] = kind
    return kinds


class PeakMemory:
    """Samples the memory of a process tree (the grader and everything it starts), summed two ways:
    PSS, which splits shared pages (torch's libraries) among the processes that map them, so the
    sum is the physical memory the run holds; and RSS, which counts them once per process."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak_pss, self.peak_rss, self._stop = pid, 0, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _tree(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                children.setdefault(ppid, []).append(int(entry.name))
        tree, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            tree.append(pid)
            todo += children.get(pid, [])
        return tree

    def _run(self) -> None:
        while not self._stop.wait(0.25):
            pss = rss = 0
            for pid in self._tree():
                try:
                    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                        if line.startswith(("Pss:", "Rss:")):
                            kib = int(line.split()[1]) * 1024
                            pss, rss = (pss + kib, rss) if line.startswith("Pss:") else (pss, rss + kib)
                except OSError:
                    pass
            self.peak_pss, self.peak_rss = max(self.peak_pss, pss), max(self.peak_rss, rss)


def grading(klass: Path, jobs: int = 2) -> dict[str, float]:
    """(b, d, f) grader score on the class: seconds per submission and peak memory; then, from
    the warm cache, the time and size the class report adds."""
    size = len(list(klass.iterdir()))
    with tempfile.TemporaryDirectory() as tmp:
        score = [str(BIN / "grader"), "score", str(klass), "--jobs", str(jobs), "--cache", str(Path(tmp) / "cache")]
        started = time.monotonic()
        proc = subprocess.Popen([*score, "--json", str(Path(tmp) / "g.json")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with PeakMemory(proc.pid) as memory:
            proc.wait()
        wall = time.monotonic() - started
        data = json.loads((Path(tmp) / "g.json").read_text())
        cached = statistics.median(timed(score) for _ in range(3))
        with_report = statistics.median(timed([*score, "--report", str(Path(tmp) / "r.html")]) for _ in range(3))
        report_kib = (Path(tmp) / "r.html").stat().st_size / 1024
    return {"submissions": size, "jobs": jobs, "wall_s": wall, "per_submission_s": wall / size,
            "peak_memory_gb": memory.peak_pss / 2**30, "peak_rss_sum_gb": memory.peak_rss / 2**30,
            "scores": sorted({s["score"] for s in data["submissions"]}),
            "report_s": with_report - cached, "report_kib": report_kib}


FLOOR = """\
import json, sys
import torch
torch.set_num_threads(1)
from grader.integrations.nbgrader_kernel import LocalSubmission
from grader.grading import suite
submission = LocalSubmission({}, folder=sys.argv[1])
suite.run(submission)
records = suite.run(submission).records
print(json.dumps({f"{r.exercise}::{r.name}": r.duration for r in records}))
"""


def floor(submission: Path, gpu: bool = False) -> dict[str, float]:
    """(c, e) the hidden suite's own test time on one submission, in one warm process (the
    second of two runs: modules imported, data loaded), on the CPU unless `gpu`."""
    env = {**os.environ, "PYTHONPATH": f"{submission}{os.pathsep}{EXERCISES}"}
    if not gpu:
        env["CUDA_VISIBLE_DEVICES"] = ""
    out = subprocess.run([sys.executable, "-c", FLOOR, str(submission)], check=True, capture_output=True,
                         text=True, cwd=ROOT, env=env)
    times = json.loads(out.stdout.strip().splitlines()[-1])
    return {"floor_s": sum(times.values()), "training_check_s": sum(v for k, v in times.items() if "mnist" in k)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--class-size", type=int, default=24)
    parser.add_argument("--skip-nbgrader", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to keep the results (JSON)")
    args = parser.parse_args()
    results: dict[str, object] = {"date": time.strftime("%Y-%m-%d %H:%M"), "cores": os.cpu_count()}
    results["student_loop"] = visible_suite()
    with tempfile.TemporaryDirectory() as tmp:
        klass = Path(tmp) / "class"
        kinds = mixed_class(klass, args.class_size)
        first = {kind: klass / next(s for s, k in kinds.items() if k == kind) for kind in ("full", "partial", "stub")}
        floors = {kind: floor(folder) for kind, folder in first.items()}
        results["floor"] = {"floor_s": floors["full"]["floor_s"],
                            "training_check_cpu_s": floors["full"]["training_check_s"],
                            "by_kind_s": {k: f["floor_s"] for k, f in floors.items()}}
        if torch.cuda.is_available():
            results["floor"]["training_check_gpu_s"] = floor(first["full"], gpu=True)["training_check_s"]
        results["grading"] = grading(klass)
    g, f = results["grading"], results["floor"]
    g["overhead_ratio"] = g["wall_s"] * g["jobs"] / (g["submissions"] * f["floor_s"])
    class_floor = sum(f["by_kind_s"][kind] for kind in kinds.values())
    g["overhead_ratio_vs_class_floor"] = g["wall_s"] * g["jobs"] / class_floor
    if not args.skip_nbgrader:
        from bench.nbgrader_autograde import autograde_per_submission

        results["nbgrader"] = autograde_per_submission(args.class_size)
        results["nbgrader"]["speedup"] = results["nbgrader"]["per_submission_s"] / g["per_submission_s"]
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    s = results["student_loop"]
    rows = [
        ("(a) pytest exercises/ on the solutions", f"{s['visible_suite_s']:.1f} s",
         f"{s['ratio']:.2f} x import torch ({s['import_torch_s']:.1f} s)"),
        ("(b) grader score --jobs 2, per submission", f"{g['per_submission_s']:.1f} s",
         f"{g['submissions']} mixed submissions, {g['wall_s']:.0f} s wall"),
        ("(c) floor: hidden suite, warm, solutions", f"{f['floor_s']:.1f} s",
         f"overhead ratio {g['overhead_ratio']:.2f} (against each submission's own floor: "
         f"{g['overhead_ratio_vs_class_floor']:.2f}; floors "
         f"{', '.join(f'{k} {v:.1f} s' for k, v in f['by_kind_s'].items())})"),
        ("(d) peak memory of the grading run", f"{g['peak_memory_gb']:.2f} GB",
         f"PSS of all its processes (RSS summed: {g['peak_rss_sum_gb']:.2f} GB)"),
        ("(e) MNIST training check, CPU", f"{f['training_check_cpu_s']:.1f} s", ""),
        *([("(e) MNIST training check, GPU", f"{f['training_check_gpu_s']:.1f} s", torch.cuda.get_device_name())]
          if "training_check_gpu_s" in f else [("(e) MNIST training check, GPU", "-", "no GPU on this machine")]),
        ("(f) class report (--report)", f"{g['report_s']:.1f} s",
         f"{g['report_kib']:.0f} KiB, one self-contained HTML file"),
    ]
    if "nbgrader" in results:
        n = results["nbgrader"]
        rows.insert(2, ("(b) nbgrader autograde, per submission", f"{n['per_submission_s']:.1f} s",
                        f"grader is {n['speedup']:.1f} x faster"))
    print_table(rows, f"(kept in {args.out})")


if __name__ == "__main__":
    main()
