"""Gradescope autograder bundles: Gradescope's own infrastructure as the engine for big classes.

`build(out_zip)` packs what grading needs, from an explicit list (BUNDLE), with setup.sh and
run_autograder. Gradescope runs setup.sh once when it builds the image (a venv at
/autograder/venv with the kit installed from /autograder/source), then run_autograder for each
submission: `grader gradescope run` grades /autograder/submission with the same hidden suites,
in bubblewrap's sandbox or, where the container forbids namespaces, the uid fallback, and
writes /autograder/results/results.json once every process of the worker's uid is gone.
"""

from __future__ import annotations

import json
import os
import stat
import zipfile
from pathlib import Path
from typing import Any

from grader import atomic
from grader.grading import discovery, engine
from grader.grading.options import GradeOptions
from grader.isolation import processes, uids
from grader.paths import ROOT
from grader.writers import gradescope

# Everything run_autograder needs, and nothing else (no tests, benches, notebooks or data scripts).
BUNDLE = (
    "pyproject.toml", "README.md",  # what `pip install -e` reads
    "grader/**/*.py", "grader/exercises/pytest.ini", "grader/heldout/*",
    "solutions/*.py",
    "exercises/registry.toml", "exercises/_kit/*.py",
    "data/SHA256SUMS", "data/MNIST/raw/*", "data/shapes/**/*.png",
)

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image (Ubuntu, as root). AUTOGRADER_ROOT
# is for trying the bundle elsewhere; on Gradescope it is /autograder.
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${PYTHON:-python3}"
if ! command -v bwrap >/dev/null \\
    || ! "$PYTHON" -c 'import ensurepip, sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
  apt-get update -qq
  apt-get install -y -qq bubblewrap python3 python3-venv python3-pip >/dev/null
fi
"$PYTHON" -m venv "$ROOT/venv"
"$ROOT/venv/bin/pip" install -q -e "$ROOT/source"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission; the results land in $ROOT/results/results.json.
# CNN_KIT_SANDBOX=uid forces the fallback used where bubblewrap cannot create namespaces.
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
exec "$ROOT/venv/bin/grader" gradescope run --root "$ROOT" --sandbox "${{CNN_KIT_SANDBOX:-auto}}" {arguments}
"""


class BundleError(ValueError):
    """The kit lacks something the bundle needs (one-line message)."""


def files(root: Path = ROOT) -> list[Path]:
    """The kit's files the bundle holds, in order; every pattern must match."""
    found: dict[Path, None] = {}
    for pattern in BUNDLE:
        matches = sorted(p for p in root.glob(pattern) if p.is_file() and "__pycache__" not in p.parts)
        if not matches:
            raise BundleError(f"the kit has no {pattern}: the bundle needs it")
        found.update(dict.fromkeys(matches))
    return list(found)


def _add(archive: zipfile.ZipFile, name: str, data: bytes, mode: int = 0o644) -> None:
    """One member, with its Unix mode (not the checkout's, which the uid fallback may have locked)."""
    info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
    info.external_attr = (stat.S_IFREG | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def build(out_zip: Path, exercises: tuple[str, ...] = (),
          visibility: gradescope.Visibility = gradescope.Visibility()) -> list[str]:
    """Write the bundle; return the names it holds. `exercises`: grade only these (all when empty);
    `visibility`: when students see each hidden check."""
    arguments = " ".join([*visibility.arguments(), *(a for e in exercises for a in ("--exercise", e))])
    names = ["setup.sh", "run_autograder"]
    target = Path(out_zip)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    with zipfile.ZipFile(tmp, "w") as archive:
        _add(archive, "setup.sh", SETUP_SH.encode(), 0o755)
        _add(archive, "run_autograder", RUN_AUTOGRADER.format(arguments=arguments).encode(), 0o755)
        for file in files():
            name = file.relative_to(ROOT).as_posix()
            _add(archive, name, file.read_bytes())
            names.append(name)
    tmp.replace(target)
    return names


def run(root: Path, options: GradeOptions,
        visibility: gradescope.Visibility = gradescope.Visibility()) -> dict[str, Any]:
    """Grade <root>/submission and write <root>/results/results.json (the Gradescope contract).

    The results folder is made the grader's alone first, and every process of the worker's uid is
    killed before the results are written: nothing the submission started can write them."""
    results = root / "results"
    results.mkdir(parents=True, exist_ok=True)
    os.chown(results, os.geteuid(), os.getegid())
    results.chmod(0o755)
    options = options.for_run()
    entry = discovery.Entry("submission", root / "submission")
    try:
        result = engine.grade_submission(entry.student, discovery.read(entry, options.modules()), options)
    except discovery.SubmissionError as exc:
        result = engine.refused(entry.student, exc, options)
    for uid in uids.held():
        processes.kill_uid(uid)
    document = gradescope.results_json(result, visibility)
    atomic.write_text(results / "results.json", json.dumps(document, indent=2) + "\n")
    return document
