"""Gradescope autograder bundles: Gradescope's own infrastructure as the engine for big classes.

`build(out_zip)` packs the kit (grader, solutions, exercises, data) with setup.sh and
run_autograder. On Gradescope, run_autograder calls `grader gradescope run`, which grades
/autograder/submission with the same hidden suites and writes /autograder/results/results.json.
"""

from __future__ import annotations

import json
import stat
import time
import zipfile
from pathlib import Path

from grader import atomic, registry
from grader.grading import discovery
from grader.isolation import sandbox
from grader.paths import ROOT
from grader.grading.options import GradeOptions
from grader.writers import gradescope

PARTS = ("grader", "solutions", "exercises", "data", "pyproject.toml", "README.md")
SKIP = ("__pycache__", ".pyc", "example_class")

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once when building the autograder image (Ubuntu, as root).
set -euo pipefail
apt-get update -qq
apt-get install -y -qq python3 python3-venv python3-pip bubblewrap >/dev/null || true
cd /autograder/source
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install -q -e .
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission; results land in $ROOT/results/results.json.
ROOT="${AUTOGRADER_ROOT:-/autograder}"
GRADER="${GRADER:-$ROOT/venv/bin/grader}"
exec "$GRADER" gradescope run --root "$ROOT"
"""


def build(out_zip: Path) -> list[str]:
    """Write the bundle; return the names it holds."""
    names: list[str] = []
    buffer = Path(out_zip)
    buffer.parent.mkdir(parents=True, exist_ok=True)
    tmp = buffer.with_name(f".{buffer.name}.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in (("setup.sh", SETUP_SH), ("run_autograder", RUN_AUTOGRADER)):
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.external_attr = (stat.S_IFREG | 0o755) << 16
            archive.writestr(info, text)
            names.append(name)
        for part in PARTS:
            path = ROOT / part
            files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
            for file in files:
                rel = file.relative_to(ROOT).as_posix()
                if any(s in rel for s in SKIP):
                    continue
                archive.write(file, rel)
                names.append(rel)
    tmp.replace(buffer)
    return names


def run(root: Path, isolation: str = "auto") -> dict:
    """Grade <root>/submission and write <root>/results/results.json (the Gradescope contract)."""
    started = time.monotonic()
    try:
        level = sandbox.choose(isolation)
    except sandbox.SandboxUnavailable:
        level = sandbox.Isolation.NONE  # Gradescope already gives each submission its own container
    entry = discovery.Entry("submission", root / "submission")
    try:
        sources = discovery.read_sources(entry)
    except discovery.ClassError as exc:
        sources, problem = {}, f"The submission could not be read: {exc}"
    else:
        problem = "" if sources else f"No exercise modules found; expected {', '.join(registry.student_modules())}"
    if problem:
        document = {"score": 0.0, "execution_time": max(1, round(time.monotonic() - started)), "tests": [],
                    "output": problem, "visibility": "visible"}
    else:
        from grader.grading.runner import grade  # torch: only when there is something to grade

        document = gradescope.results_json(grade("submission", sources, GradeOptions(isolation=level)))
    atomic.write_text(root / "results" / "results.json", json.dumps(document, indent=2) + "\n")
    return document
