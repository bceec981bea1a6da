"""Realistic mistakes applied to the reference solutions; each must lose points.

Run `python tests/mutants.py` for the kill-rate table; tests/test_mutants.py asserts it is 100 %.
Each mutant is (exercise, description, old text, new text): the old text must occur exactly once
in solutions/<module>.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grader import registry, sandbox  # noqa: E402
from grader.engine import grade_class  # noqa: E402
from grader.paths import SOLUTIONS  # noqa: E402
from grader.runner import GradeOptions  # noqa: E402


@dataclass(frozen=True)
class Mutant:
    exercise: str
    description: str
    old: str
    new: str

    @property
    def slug(self) -> str:
        return "".join(c if c.isalnum() else "_" for c in self.description.lower())[:60]

    def apply(self) -> str:
        module = registry.by_id(self.exercise).module
        source = (SOLUTIONS / module).read_text(encoding="utf-8")
        count = source.count(self.old)
        if count != 1:
            raise ValueError(f"{self.exercise}: {self.description!r}: the old text occurs {count} times")
        return source.replace(self.old, self.new)


MUTANTS = [
    Mutant("lenet", "conv1 kernel 3 instead of 5", "nn.Conv2d(1, 6, kernel_size=5)", "nn.Conv2d(1, 6, kernel_size=3)"),
    Mutant("lenet", "conv2 with padding 1", "nn.Conv2d(6, 16, kernel_size=5)", "nn.Conv2d(6, 16, kernel_size=5, padding=1)"),
    Mutant("lenet", "missing ReLU after conv1", "x = self.pool(F.relu(self.conv1(x)))", "x = self.pool(self.conv1(x))"),
    Mutant("lenet", "flatten that breaks for batch > 1", "x = torch.flatten(x, 1)", "x = x.view(1, -1)"),
    Mutant("lenet", "softmax over the wrong dim", "torch.softmax(self.classifier(self.features(x)), dim=1)",
           "torch.softmax(self.classifier(self.features(x)), dim=0)"),
    Mutant("lenet", "conv2 with 12 channels", "nn.Conv2d(6, 16, kernel_size=5, bias=False),\n            nn.ReLU()",
           "nn.Conv2d(6, 12, kernel_size=5, bias=False),\n            nn.Conv2d(12, 16, kernel_size=1, bias=False),\n            nn.ReLU()"),
    Mutant("lenet", "pool stride 1", "self.pool = nn.MaxPool2d(kernel_size=2, stride=2)",
           "self.pool = nn.MaxPool2d(kernel_size=2, stride=1)"),
]


def run(mutants: list[Mutant] = MUTANTS, jobs: int = 2) -> list[tuple[Mutant, float, float]]:
    """Grade every mutant with its exercise's hidden tests; return (mutant, score, maximum)."""
    isolation = sandbox.choose("auto")
    results: list[tuple[Mutant, float, float]] = []
    by_exercise: dict[str, list[Mutant]] = {}
    for mutant in mutants:
        by_exercise.setdefault(mutant.exercise, []).append(mutant)
    with tempfile.TemporaryDirectory(prefix="cnnkit-mutants-") as tmp:
        for exercise, group in by_exercise.items():
            module = registry.by_id(exercise).module
            folder = Path(tmp) / exercise
            for mutant in group:
                (folder / mutant.slug).mkdir(parents=True)
                (folder / mutant.slug / module).write_text(mutant.apply(), encoding="utf-8")
            report = grade_class(folder, GradeOptions(isolation=isolation, exercises=(exercise,)), jobs=jobs)
            scores = {r.student: r for r in report.results}
            results += [(m, scores[m.slug].score, report.max_score) for m in group]
    return results


def main() -> None:
    results = run()
    killed = sum(score < maximum for _, score, maximum in results)
    for mutant, score, maximum in results:
        print(f"{'killed ' if score < maximum else 'SURVIVED'} {score:>5g}/{maximum:<4g} {mutant.exercise:14} {mutant.description}")
    print(f"kill rate: {killed}/{len(results)} = {100 * killed / len(results):.0f} %")


if __name__ == "__main__":
    main()
