"""Attacks by a student who read this open-source kit: no forgery gains a point.

Each file in tests/attacks/<exercise>/ is appended to the untouched stub of that exercise and to
tests/attacks/prelude.py (pretrained_lenet(): a LeNet trained here on the shipped digits' true
labels, as a student could at home), so the submission implements nothing and tries to earn
points anyway: by rewriting the worker's interpreter, exporter or channel at import, forging
graphs, patching torch, reaching torch's own kernels through side doors in the from-scratch
exercise, returning canned values, shipping weights trained beforehand, or memorising the
shipped digits. Each exercise's attacks are graded as one class beside the untouched stub (the
control) and the reference solution, through the real grading path.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import torch

from grader import registry
from grader.grading.engine import grade_class
from grader.grading.options import GradeOptions
from grader.paths import EXERCISES, SOLUTIONS

pytestmark = pytest.mark.slow  # graded classes through the real path: make quick leaves them out

ATTACKS = Path(__file__).parent / "attacks"
TARGETS = tuple(e.id for e in registry.load() if (ATTACKS / e.id).is_dir())
CASES = [(exercise, path.stem) for exercise in TARGETS for path in sorted((ATTACKS / exercise).glob("*.py"))]


@pytest.fixture(scope="module")
def pretrained() -> str:
    """A LeNet (nn.Sequential) trained here on the shipped training digits with their true labels, as
    base64 of its parameters (float32, in order): what a student could train at home and ship."""
    from torch.utils.data import DataLoader, TensorDataset

    from grader.grading import digits

    torch.manual_seed(0)
    images, labels = digits.shipped(True)
    net = lenet()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.02, momentum=0.9)
    for _ in range(3):
        for x, y in DataLoader(TensorDataset(digits.normalised(images), labels), batch_size=32, shuffle=True):
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(net(x), y).backward()
            optimizer.step()
    flat = torch.cat([p.detach().reshape(-1) for p in net.parameters()])
    return base64.b64encode(flat.numpy().tobytes()).decode()


def lenet() -> torch.nn.Module:
    nn = torch.nn
    return nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


@pytest.fixture(scope="module")
def graded(tmp_path_factory, isolation, pretrained) -> dict[str, dict]:
    """Each exercise's attacks, its stub and its solution, graded as one class."""
    results = {}
    for exercise in TARGETS:
        module = registry.by_id(exercise).module
        klass = tmp_path_factory.mktemp(exercise)
        stub = (EXERCISES / module).read_text(encoding="utf-8")
        prelude = (ATTACKS / "prelude.py").read_text(encoding="utf-8").replace("{WEIGHTS}", pretrained)
        submissions = {path.stem: "\n\n".join([stub, prelude, path.read_text(encoding="utf-8")])
                       for path in (ATTACKS / exercise).glob("*.py")}
        submissions.update(stub_control=stub, reference=(SOLUTIONS / module).read_text(encoding="utf-8"))
        for student, source in submissions.items():
            (klass / student).mkdir()
            (klass / student / module).write_text(source, encoding="utf-8")
        report = grade_class(klass, GradeOptions(isolation=isolation, exercises=(exercise,), timeout=300), jobs=2)
        results[exercise] = {r.student: r for r in report.results}
    return results


def test_there_are_attacks_for_each_exercise():
    assert {exercise for exercise, _ in CASES} == {e.id for e in registry.load()}


@pytest.mark.parametrize("exercise", TARGETS)
def test_the_control_and_the_reference(graded, exercise):
    points = registry.by_id(exercise).points
    assert graded[exercise]["stub_control"].score == 0
    reference = graded[exercise]["reference"]
    assert reference.score == reference.max_score == points, \
        [(t.name, t.output) for t in reference.tests if not t.score]


@pytest.mark.parametrize("exercise, attack", CASES)
def test_no_attack_gains_a_point(graded, exercise, attack):
    result = graded[exercise][attack]
    assert result.max_score == registry.by_id(exercise).points
    assert result.score == graded[exercise]["stub_control"].score == 0, \
        [(t.name, t.output) for t in result.tests if t.score]
