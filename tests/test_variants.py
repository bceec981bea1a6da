"""Correct solutions written differently from the reference get full marks: a functional LeNet,
an nn.Sequential LeNet with other names, a training module with another structure, loss/backprop and
data modules written with other calls, and residual blocks and ResNets built in other orders that pool
with x.mean or F.avg_pool2d (see each file's docstring). The visible checks are held to the same
variants, and more, in test_visible.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader import registry
from grader.grading.options import GradeOptions
from grader.grading.runner import grade

VARIANTS = Path(__file__).parent / "variants"


def module_of(variant: Path) -> str:
    """tests/variants/<module stem>_<how>.py stands for <module stem>.py."""
    return next(e.module for e in registry.load() if variant.stem.startswith(e.stem + "_"))


CASES = [(variant.name, module_of(variant)) for variant in sorted(VARIANTS.glob("*.py"))]


@pytest.mark.parametrize("variant, module", CASES)
def test_correct_variants_get_full_marks(isolation, variant, module):
    exercise = module.removesuffix(".py")
    result = grade(variant, {module: (VARIANTS / variant).read_bytes()},
                   GradeOptions(isolation=isolation, exercises=(exercise,)))
    assert result.score == result.max_score == registry.by_id(exercise).points, \
        [(t.name, t.output) for t in result.tests if t.score < t.max_score]
