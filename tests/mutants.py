"""Print the mutation kill-rate table: `python tests/mutants.py [EXERCISE ...]`."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grader.authoring.mutation import all_mutants, mutants, run


def main() -> None:
    chosen = [m for e in sys.argv[1:] for m in mutants(e)] or all_mutants()
    results = run(chosen)
    caught = sum(r.caught for r in results)
    for r in results:
        verdict = ("advised" if r.mutant.advisory else "killed ") if r.caught else "SURVIVED"
        print(f"{verdict} {r.score:>5g}/{r.maximum:<4g} {r.mutant.exercise:14} {r.mutant.description}")
    print(f"kill rate: {caught}/{len(results)} = {100 * caught / len(results):.0f} % "
          f"({sum(r.mutant.advisory for r in results)} advisory: caught by advice, not points)")


if __name__ == "__main__":
    main()
