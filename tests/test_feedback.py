"""Feedback pages: one self-contained, escaped page per student, with that student's scores, failed
checks, hints and next step, and nothing of anyone else's; checked in a browser too.
(tests/test_cli.py writes real pages with `grader score --feedback` and checks them.)"""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser

import pytest
from PIL import Image

from grader.grading import results
from grader.grading.results import ClassReport, Note, NoteKind, Outcome, Status, SubmissionResult
from grader.writers import feedback

Record = results.TestRecord  # not imported as Test*: pytest would try to collect it
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
EXERCISES = ("operations", "lenet", "loss_backprop")
LENET_HINTS = feedback.first_hints("lenet")


def make(student: str = "ada", lenet_output: str = "fc1 expects 400 features, got 256") -> SubmissionResult:
    return SubmissionResult(student, Status.ERROR, [
        Record("test_conv_shape", "operations", 16, 16, Outcome.PASSED),
        Record("test_pool", "operations", 16, 16, Outcome.PASSED),
        Record("test_net_forward", "lenet", 10, 0, Outcome.FAILED, lenet_output, advice=["name your layers"]),
        Record("test_net_parameters", "lenet", 10, 10, Outcome.PASSED),
        Record("test_mse", "loss_backprop", 15, 0, Outcome.NOT_STARTED, "not started yet"),
    ], 67, flags=["lenet.py: imports pytest"], missing=["training.py"],
        notes=[Note(NoteKind.QUOTA, "the submission filled its 256 MiB of disk (/sub or /tmp)")])


class Tags(HTMLParser):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: set[str] = set()
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attributes |= {name for name, _ in attrs}

    def handle_data(self, data):
        self.text.append(data)


def test_a_page_shows_the_scores_the_failed_checks_and_what_next():
    page = feedback.render(make(), EXERCISES, 67)
    text = " ".join(Tags(page).text)
    assert "42 / 67" in text and "32 / 32" in text and "10 / 20" in text and "0 / 15" in text
    assert "net forward" in text and "fc1 expects 400 features, got 256" in text and "name your layers" in text
    assert "not started yet" in text and "missing modules: training.py" in text and "filled its 256 MiB" in text
    assert "lenet.py: imports pytest" in text
    what_next = page.split("What to try next")[1].split("</div>")[0]
    assert "lenet" in what_next and "net forward" in what_next and LENET_HINTS[0] in Tags(what_next).text[-1]
    assert len(LENET_HINTS) >= 3 and all(hint in text for hint in LENET_HINTS)
    assert "self.fc1 = nn.Linear" not in page, "the last tier (the code itself) stays with the student's kit"


def test_every_text_is_escaped_and_the_page_is_self_contained():
    page = feedback.render(make(HOSTILE, HOSTILE), EXERCISES, 67)
    parsed = Tags(page)
    assert parsed.tags <= {"html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "h3", "p", "span",
                           "div", "strong", "table", "tbody", "tr", "td", "ul", "li", "pre", "code", "section"}
    assert parsed.attributes <= {"lang", "charset", "name", "content", "class"}
    assert HOSTILE in " ".join(parsed.text), "shown as text, not run"
    assert "http" not in page.replace('content="width=device-width', "")


def test_a_page_holds_one_students_work_only(tmp_path):
    ada, bob = make("ada"), make("bob", "bob's own message")
    feedback.write(tmp_path, ClassReport([ada, bob], 67, EXERCISES))
    pages = {p.name: p.read_text() for p in tmp_path.iterdir()}
    assert sorted(pages) == ["ada.html", "bob.html"]
    assert "bob" not in pages["ada.html"] and "ada" not in pages["bob.html"]


def test_a_perfect_submission_is_told_so():
    perfect = SubmissionResult("eve", Status.GRADED, [Record("test_a", "lenet", 20, 20, Outcome.PASSED)], 20)
    page = feedback.render(perfect, ("lenet",), 20)
    assert "Every check passed" in page and "what did not pass" not in page


@pytest.mark.parametrize("student, name", [("ada", "ada.html"), ('=HYPERLINK("x")', '=HYPERLINK("x").html'),
                                           ("..", "student.html"), ("a/../b", "a-..-b.html")])
def test_file_names_stay_in_the_folder(student, name):
    assert feedback.file_name(student) == name


def browser() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.slow
@pytest.mark.skipif(browser() is None, reason="no chromium on PATH: `make setup` as root installs it")
def test_the_browser_renders_a_page(tmp_path):
    page = tmp_path / "ada.html"
    page.write_text(feedback.render(make("ada", HOSTILE), EXERCISES, 67))
    shot = tmp_path / "shot.png"
    command = [browser(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--hide-scrollbars", f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}",
               "--window-size=1000,1400", page.as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert shot.exists(), done.stderr[-2000:]
    image = Image.open(shot).convert("RGB")
    assert image.size == (1000, 1400)
    assert len(image.getcolors(maxcolors=1 << 20) or []) > 30  # text and colours, not a blank page
