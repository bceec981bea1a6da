"""Build the student copy of the kit: stubs, notebooks, visible checks, the kit's commands, data and a student
README that says what to hand in.
No solutions, no hidden suites, no grader."""

from __future__ import annotations

import shutil
from pathlib import Path

from grader.authoring import stubs
from grader.paths import DATA, EXERCISES

STUDENT_README = """\
# CNN exercises in PyTorch

{count} exercises, from one convolution to transfer learning and a tiny ResNet. Each is a file in
`exercises/` whose docstrings tell you what to write, and the same exercise as a Jupyter notebook
(`exercises/<name>.ipynb`): work in whichever you like; the kit uses the one you changed.
Replace every `raise NotImplementedError(...)`.

Setup (once; Python 3.11 or later, on Linux, macOS or Windows):

    python3 -m venv .venv && .venv/bin/pip install -r requirements.txt
    (Windows: py -m venv .venv, then .venv\\Scripts\\pip install -r requirements.txt)

Check your work with the venv active (`source .venv/bin/activate`; Windows: `.venv\\Scripts\\activate`),
any time; each run ends with your progress in every exercise and the next thing to do:

    pytest exercises/                      # everything
    pytest exercises/test_lenet.py         # one exercise; -k batch, --lf, --sw and -x work too
    python exercises/kit.py watch          # re-checks an exercise each time you save it (Ctrl-C to stop)
    python exercises/kit.py hint           # the next hint for the check that fails now
    python exercises/kit.py progress       # where you stand
    python exercises/kit.py train          # train your MNIST classifier; pictures of the run in exercises/pictures/

In a notebook, the cell after each task runs its checks and the last cell shows your progress
(`pip install jupyterlab`, then `jupyter lab` in this folder). Save the notebook before you hand in.

Order: {order}.

## What to hand in, and how

    python exercises/kit.py handin

checks your work and writes one file, `handin/cnn-handin.zip`: for each exercise the file you
worked in (`exercises/<name>.py`, or the notebook `exercises/<name>.ipynb`), nothing else. It
refuses, and says which file and line to fix, when a file is missing, does not compile, or is
larger than the grader reads. Hand in that zip as your instructor asks; on Gradescope, upload
the zip as it is. Your instructor grades it with hidden checks that are stricter than these, on
inputs you have not seen: make your code correct, not just these checks green.

The data in `data/` (real MNIST digits, a small shapes set) works offline; see data/README.md.
"""

REQUIREMENTS = "torch>=2.4\ntorchvision>=0.19\npytest>=8\npytest-timeout>=2.3\nmatplotlib>=3.8\n"
EXCLUDED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", "pictures", ".progress*", "handin")


class ReleaseError(ValueError):
    """The release cannot be built as asked."""


def build(target: Path) -> list[Path]:
    """Write the student copy into `target` (which must be new or empty); return its files."""
    from grader import registry

    target = Path(target)
    if target.exists() and any(target.iterdir()):
        raise ReleaseError(f"{target} is not empty: choose a new folder")
    drift = stubs.check_stubs()
    if drift:
        raise ReleaseError(f"stubs are out of sync with solutions ({drift[0].module}): run `grader stubs` first")
    target.mkdir(parents=True, exist_ok=True)
    shutil.copytree(EXERCISES, target / "exercises", ignore=EXCLUDED)
    shutil.copytree(DATA, target / "data", ignore=EXCLUDED)
    exercises = registry.load()
    order = ", ".join(e.module for e in exercises)
    (target / "README.md").write_text(STUDENT_README.format(count=len(exercises), order=order), encoding="utf-8")
    (target / "requirements.txt").write_text(REQUIREMENTS, encoding="utf-8")
    return sorted(p for p in target.rglob("*") if p.is_file())


def _lines(text: str) -> set[str]:
    return {line.strip() for line in text.splitlines()}


def secrets() -> set[str]:
    """Lines only the instructor has: solution-region code and hidden-test code that appears
    nowhere public (outside regions, in visible checks or in the kit's helpers)."""
    from grader.paths import SOLUTIONS, SUITES

    public: set[str] = set()
    private: set[str] = set()
    for solution in SOLUTIONS.glob("*.py"):
        text = solution.read_text(encoding="utf-8")
        public |= _lines(stubs.make_stub(text))
        private |= _lines(text)
    for path in [*EXERCISES.glob("test_*.py"), *EXERCISES.glob("_kit/*.py"), EXERCISES / "conftest.py"]:
        public |= _lines(path.read_text(encoding="utf-8"))
    for hidden in SUITES.rglob("*.py"):
        private |= _lines(hidden.read_text(encoding="utf-8"))
    return {line for line in private - public if len(line) > 20 and not line.startswith(("#", "import ", "from "))}


def leaks(target: Path) -> list[str]:
    """Solution code or hidden-test text found in a release (empty when clean)."""
    hidden_lines = secrets()
    found = []
    for path in sorted(Path(target).rglob("*")):
        if path.is_file() and path.suffix in (".py", ".md", ".txt", ".toml", ".ini", ".ipynb", ".cfg"):
            text = _lines(path.read_text(encoding="utf-8", errors="replace"))
            found += [f"{path.relative_to(target)}: {line[:60]}" for line in sorted(hidden_lines & text)]
    for forbidden in ("solutions", "grader"):
        if (Path(target) / forbidden).exists():
            found.append(f"{forbidden}/ is in the release")
    return found
