"""Print the mutation kill-rate table: `python tests/mutants.py [EXERCISE ...]`."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grader.authoring.mutation import all_mutants, mutants, run  # noqa: E402


def main() -> None:
    chosen = [m for e in sys.argv[1:] for m in mutants(e)] or all_mutants()
    results = run(chosen)
    killed = sum(score < maximum for _, score, maximum in results)
    for mutant, score, maximum in results:
        print(f"{'killed ' if score < maximum else 'SURVIVED'} {score:>5g}/{maximum:<4g} {mutant.exercise:14} {mutant.description}")
    print(f"kill rate: {killed}/{len(results)} = {100 * killed / len(results):.0f} %")


if __name__ == "__main__":
    main()
