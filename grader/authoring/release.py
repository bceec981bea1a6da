"""Build the student copy of the kit: stubs, visible checks, data and a student README.
No solutions, no hidden suites, no grader."""

from __future__ import annotations

import shutil
from pathlib import Path

from grader.authoring import stubs
from grader.paths import DATA, EXERCISES

STUDENT_README = """\
# CNN exercises in PyTorch

{count} exercises, from one convolution to transfer learning and a tiny ResNet. Each is a file in
`exercises/` whose docstrings tell you what to write; replace every `raise NotImplementedError(...)`.

Setup (once):

    python3 -m venv .venv && .venv/bin/pip install -r requirements.txt

Check your work (any time; it ends with your progress and the next thing to do):

    .venv/bin/pytest exercises/                      # everything
    .venv/bin/pytest exercises/test_lenet.py         # one exercise
    .venv/bin/pytest exercises/ -k batch             # checks whose name matches

Order: {order}.

The data in `data/` (real MNIST digits, a small shapes set) works offline; see data/README.md.
Your instructor grades with hidden checks that are stricter than these, on inputs you have not
seen: make your code correct, not just these checks green.
"""

NUMBERS = ("No", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten", "Eleven", "Twelve")
REQUIREMENTS = "torch>=2.4\ntorchvision>=0.19\npytest>=8\nmatplotlib>=3.8\n"
PYTEST_INI = "[pytest]\naddopts = -p no:cacheprovider\n"
EXCLUDED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", "pictures")


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
    order = ", ".join(f"{e.module}" for e in exercises)
    count = NUMBERS[len(exercises)] if len(exercises) < len(NUMBERS) else str(len(exercises))
    (target / "README.md").write_text(STUDENT_README.format(count=count, order=order), encoding="utf-8")
    (target / "requirements.txt").write_text(REQUIREMENTS, encoding="utf-8")
    (target / "pytest.ini").write_text(PYTEST_INI, encoding="utf-8")
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
