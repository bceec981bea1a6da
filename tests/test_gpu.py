"""The GPU paths, on a machine with CUDA (skipped cleanly without it): a sandboxed worker sees
the GPU, the solutions' training and transfer code keep full marks when the hidden suite
trains on it, and the visible training checks pass there."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from grader import registry
from grader.grading.options import GradeOptions
from grader.grading.results import Outcome
from grader.grading.runner import grade
from grader.grading.scenario import Scenario
from grader.isolation import sandbox
from grader.isolation.remote import RemoteSubmission
from grader.paths import DATA, EXERCISES, SOLUTIONS

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]
SLOT = 12  # a slot no other test module uses


@pytest.fixture(params=list(sandbox.Isolation), ids=lambda i: i.value)
def gpu_isolation(request) -> sandbox.Isolation:
    if request.param is sandbox.Isolation.BWRAP and not sandbox.bwrap_works():
        pytest.skip("bubblewrap is not usable here")
    if request.param is sandbox.Isolation.UID and not sandbox.uid_works():
        pytest.skip("the uid fallback needs root")
    return request.param


def solutions() -> dict[str, bytes]:
    return {m: (SOLUTIONS / m).read_bytes() for m in registry.student_modules()}


def test_worker_sees_the_gpu(tmp_path: Path, gpu_isolation: sandbox.Isolation) -> None:
    (tmp_path / "training.py").write_bytes(solutions()["training.py"])
    worker = RemoteSubmission(tmp_path, gpu_isolation, slot=SLOT, call_timeout=60)
    s = Scenario("training")
    device = s.call("training.get_device")
    try:
        observed = s.run(worker).value(device)
    finally:
        worker.stop()
    assert str(observed.text).startswith("cuda"), \
        "the worker cannot use the GPU: are /dev/nvidia* bound into the sandbox?"


def test_training_and_transfer_score_full_marks_on_the_gpu(gpu_isolation: sandbox.Isolation) -> None:
    options = GradeOptions(isolation=gpu_isolation, exercises=("training", "transfer"), timeout=600)
    result = grade("gpu", solutions(), options, slot=SLOT)
    lost = [f"{r.name}: {r.output[-500:]}" for r in result.tests if r.outcome is not Outcome.PASSED]
    assert not lost, lost
    assert result.score == result.max_score > 0


def test_visible_training_checks_pass_on_the_gpu(tmp_path: Path) -> None:
    kit = tmp_path / "exercises"
    shutil.copytree(EXERCISES, kit, ignore=shutil.ignore_patterns("__pycache__", "pictures"))
    for module in ("training.py", "transfer.py"):
        shutil.copy(SOLUTIONS / module, kit / module)
    run = subprocess.run([sys.executable, "-m", "pytest", "exercises/test_training.py", "exercises/test_transfer.py",
                          "-q", "-p", "no:cacheprovider"], cwd=tmp_path, capture_output=True, text=True,
                         env={**os.environ, "CNN_KIT_DATA": str(DATA)}, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:]
