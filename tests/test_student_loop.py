"""The student's loop, run as a student runs it (pytest in a throwaway copy of exercises/): progress
that is true and kept between runs, pytest's habits, the time limit, errors explained with their
context, and tiered hints."""

from __future__ import annotations

import os
import re
import signal
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader import registry
from grader.paths import DATA, EXERCISES, SOLUTIONS

EXERCISE_COUNT = len(registry.load())
CHECK_COUNT = sum(len([n for n in (EXERCISES / f"test_{e.module}").read_text().splitlines() if n.startswith("def test_")])
                  for e in registry.load())
LOOPING_NET = '''
import torch.nn as nn
from pathlib import Path


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(1, 1)

    def forward(self, x):
        Path("entered-forward").touch()
        while True:
            x = x + 0
'''


@pytest.fixture
def kit(tmp_path: Path) -> Path:
    shutil.copytree(EXERCISES, tmp_path / "exercises", ignore=shutil.ignore_patterns("__pycache__", ".progress.json",
                                                                                     ".pytest_cache", "pictures"))
    return tmp_path


def env() -> dict[str, str]:
    return {**os.environ, "CNN_KIT_DATA": str(DATA), "PYTHONDONTWRITEBYTECODE": "1"}


def pytest_run(kit: Path, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "pytest", *args], cwd=kit, env=env(), capture_output=True, text=True,
                          timeout=300)
    return done.stdout + done.stderr


def kit_command(kit: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "exercises/kit.py", *args], cwd=kit, env=env(), capture_output=True,
                          text=True, timeout=300)


def solve(kit: Path, module: str) -> None:
    shutil.copy(SOLUTIONS / module, kit / "exercises" / module)


def row(output: str, module: str) -> str:
    """The progress table's line for `module`."""
    return next(line for line in output.splitlines() if re.match(rf"^\S \d+ {re.escape(module)} ", line))


def test_progress_covers_every_exercise_and_is_kept_between_runs(kit):
    solve(kit, "lenet.py")
    one_file = pytest_run(kit, "exercises/test_lenet.py")
    assert re.search(r"6/6\s+done$", row(one_file, "lenet.py"))
    assert f"Progress: 1/{EXERCISE_COUNT} exercises done." in one_file and "All " not in one_file
    assert f"This run checked 6 of the kit's {CHECK_COUNT} checks (lenet.py)" in one_file
    assert row(one_file, "operations.py").endswith("not started yet")

    only_softmax = pytest_run(kit, "exercises/", "-k", "softmax")
    assert re.search(r"6/6\s+done$", row(only_softmax, "lenet.py")), "the other five checks passed on this same code"
    assert f"Progress: 1/{EXERCISE_COUNT} exercises done." in only_softmax and "All " not in only_softmax

    with (kit / "exercises" / "lenet.py").open("a") as module:
        module.write("\n# changed after the checks ran\n")
    changed = pytest_run(kit, "exercises/", "-k", "softmax")
    assert re.search(r"1/6\s+not checked since it changed$", row(changed, "lenet.py")), row(changed, "lenet.py")
    assert f"Progress: 0/{EXERCISE_COUNT} exercises done." in changed
    assert changed.rstrip().splitlines()[-1].startswith("Next: exercises/lenet.py changed since it was last checked")


def test_the_progress_block_and_next_step_are_the_last_lines(kit):
    (kit / "exercises" / "lenet.py").write_text((SOLUTIONS / "lenet.py").read_text().replace(
        "return self.fc3(x)", "return F.relu(self.fc3(x))"))
    output = pytest_run(kit, "exercises/test_lenet.py").rstrip().splitlines()
    progress_at = next(i for i, line in enumerate(output) if "your progress" in line)
    assert any("what to fix" in line for line in output[:progress_at])
    assert output[progress_at + EXERCISE_COUNT + 1] == f"Progress: 0/{EXERCISE_COUNT} exercises done."
    assert output[-2] == "Next: exercises/lenet.py, check test_net_any_batch_size (explained above)."
    assert output[-1].startswith("  Re-check: pytest exercises/test_lenet.py")
    assert not any("FAILED" in line or "Traceback" in line for line in output)


def test_last_failed_stepwise_and_exitfirst_work_and_say_the_run_was_partial(kit):
    (kit / "exercises" / "lenet.py").write_text((SOLUTIONS / "lenet.py").read_text().replace(
        "return self.fc3(x)", "return F.relu(self.fc3(x))"))
    pytest_run(kit, "exercises/test_lenet.py")
    again = pytest_run(kit, "exercises/test_lenet.py", "--lf")
    assert "1 failed" in again and "5 deselected" in again
    assert f"This run checked 1 of the kit's {CHECK_COUNT} checks (lenet.py)" in again
    assert re.search(r"5/6\s+in progress$", row(again, "lenet.py"))

    stepwise = pytest_run(kit, "exercises/", "--sw")
    assert "Stopped early (-x, --maxfail or --sw)" in stepwise
    exitfirst = pytest_run(kit, "exercises/test_operations.py", "-x")
    assert "1 failed" in exitfirst and "Stopped early (-x, --maxfail or --sw): 1 of the 24 selected checks ran" in exitfirst


def test_an_endless_loop_fails_its_check_with_a_teaching_message(kit):
    (kit / "exercises" / "lenet.py").write_text(LOOPING_NET)
    for method in ("signal", "thread"):  # thread: the way it works on Windows, which has no SIGALRM
        output = pytest_run(kit, "exercises/test_lenet.py::test_net_output_shape", "-o", "timeout=1",
                            "-o", f"timeout_method={method}")
        assert "net(torch.randn(1, 1, 32, 32)) ran for more than 1 s: an endless loop?" in output, output
        assert re.search(r"it was running exercises/lenet\.py, line 1[34], in Net\.forward:", output), output
        assert "1 failed" in output and "Traceback" not in output


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or sys.platform == "win32", reason="sends SIGINT")
def test_ctrl_c_keeps_what_finished_and_never_says_all_done(kit):
    for module in registry.student_modules():
        solve(kit, module)
    (kit / "exercises" / "lenet.py").write_text(LOOPING_NET)
    proc = subprocess.Popen([sys.executable, "-m", "pytest", "exercises/", "-o", "timeout=0", "-p", "no:randomly"],
                            cwd=kit, env=env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    marker = kit / "entered-forward"
    deadline = time.monotonic() + 240
    while not marker.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    assert marker.exists(), "the looping check never started"
    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=120)
    assert "Interrupted (Ctrl-C) during test_lenet.py::test_net_output_shape" in output, output[-2000:]
    assert "All " not in output
    assert re.search(r"24/24\s+done$", row(output, "operations.py")), "the exercises checked before Ctrl-C are kept"
    assert output.rstrip().splitlines()[-1].startswith("  Re-check: pytest exercises/test_lenet.py")


@pytest.mark.parametrize("module, code, expected", [
    ("operations.py",
     (SOLUTIONS / "operations.py").read_text().replace(
         "return nn.Sequential(nn.Flatten(start_dim=1), nn.Linear(in_features, out_features, bias=True))",
         "return nn.Linear(in_features, out_features)").replace("def relu(", "def my_relu("),
     ["RuntimeError inside torch on what your code gave back: mat1 and mat2 shapes cannot be multiplied (15x4 and 60x2)",
      "the check called: head(x)", "x is a tensor of shape (1, 3, 5, 4)",
      "head is Linear(in_features=60, out_features=2, bias=True)",
      "exercises/operations.py has no relu, and the check calls it: was it renamed or deleted?"]),
    ("lenet.py",
     (SOLUTIONS / "lenet.py").read_text().replace("nn.Conv2d(1, 6, kernel_size=5)", "nn.Conv2d(1, 6, kernel_size=5, padding=2)")
     .replace("x = torch.flatten(x, 1)", "x = x.view(-1, 16 * 5 * 5)"),
     ["the first conv layer mapped (1, 1, 32, 32) -> (1, 6, 32, 32), expected (1, 1, 32, 32) -> (1, 6, 28, 28)",
      "your code raised RuntimeError: shape '[-1, 400]' is invalid for input of size 576",
      "x = x.view(-1, 16 * 5 * 5)", "x is a tensor of shape (1, 16, 6, 6)"]),
    ("training.py",
     (SOLUTIONS / "training.py").read_text().replace(
         "            total += torch.bincount(labels, minlength=num_classes)\n",
         "            for i in range(3):  # seed 003's loop over batch_size_test\n"
         "                total[labels[i]] += 1\n"),
     ["your code raised IndexError: index 1 is out of bounds for dimension 0 with size 1",
      "in your code, exercises/training.py, line", "labels is a tensor of shape (1,) (torch.int64)", "i is 1",
      "hint 1/3: Count, for every class, its samples and the ones predicted right. Mind the last batch"]),
])
def test_errors_raised_inside_torch_keep_the_checks_context(kit, module, code, expected):
    (kit / "exercises" / module).write_text(code)
    output = pytest_run(kit, f"exercises/test_{module}")
    for text in expected:
        assert text in output, f"{text!r} not in:\n{output[-4000:]}"


def test_hints_come_in_tiers_for_the_check_that_fails_now(kit):
    (kit / "exercises" / "lenet.py").write_text((SOLUTIONS / "lenet.py").read_text().replace(
        "return torch.softmax(self.classifier(self.features(x)), dim=1)",
        "return torch.softmax(self.classifier(self.features(x)), dim=0)"))
    solve(kit, "operations.py")
    solve(kit, "from_scratch.py")
    failing = pytest_run(kit, "exercises/test_lenet.py")
    assert "✘ lenet.py · test_lenet_softmax" in failing and "hint 1/3: LeNet turns its 10 scores into probabilities" in failing
    second = kit_command(kit, "hint")
    assert second.returncode == 0
    assert second.stdout.splitlines()[0].startswith("lenet.py · test_lenet_softmax")
    assert "hint 2/3: torch.softmax(scores, dim=...)" in second.stdout and "hint 3/3" not in second.stdout
    third = kit_command(kit, "hint").stdout
    assert "hint 3/3: return torch.softmax(self.classifier(self.features(x)), dim=1)" in third
    assert "That was the last hint" in third
    assert "hint 3/3" in kit_command(kit, "hint").stdout, "the last hint stays"
    other = kit_command(kit, "hint", "test_min_pool").stdout
    assert other.splitlines()[0].startswith("operations.py · test_min_pool") and "hint 1/3" in other
    unknown = kit_command(kit, "hint", "no_such_check")
    assert unknown.returncode == 2 and "no exercise or check is called 'no_such_check'" in unknown.stdout


def test_train_draws_pictures_of_the_students_own_run(kit):
    solve(kit, "training.py")
    solve(kit, "operations.py")
    done = kit_command(kit, "train", "--epochs", "1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"Your LeNet reached \d+\.\d % on the 500 test digits after 1 epochs", done.stdout), done.stdout
    assert "[1,    50] loss:" in done.stdout, "the student's own train() printed its running loss"
    pictures = kit / "exercises" / "pictures"
    for name in ("mnist_training_curves.png", "mnist_conv1_after_training.png"):
        assert (pictures / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"exercises/pictures/{name}" in done.stdout
    listed = kit_command(kit, "progress").stdout
    assert "Pictures of your own MNIST run: exercises/pictures/mnist_conv1_after_training.png, " \
           "exercises/pictures/mnist_training_curves.png" in listed


def test_train_says_what_is_missing_when_training_is_not_written(kit):
    done = kit_command(kit, "train", "--epochs", "1")
    assert done.returncode == 0 and "Traceback" not in done.stdout + done.stderr
    assert "training.mnist_classifier() did not finish: not started yet" in done.stdout, done.stdout
