"""The instructor's HTML class report: exact statistics, one self-contained escaped page, a browser's view."""

from __future__ import annotations

import base64
import io
import random
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest
from PIL import Image
from typer.testing import CliRunner

from grader import cli, registry
from grader.grading import results
from grader.grading.results import ClassReport, Note, NoteKind, Outcome, Status, SubmissionResult
from grader.writers import html_report

Record = results.TestRecord  # not imported as Test*: pytest would try to collect it
HOSTILE = "<script>alert(1)</script>"
POOL_MSG = "pool gave (1, 6, 14, 14), expected (1, 6, 7, 7): use kernel_size=2 & stride=2 <not 1>"
FC_MSG = "fc1 expects 400 features, got 256"
PASS, FAIL, NOT_STARTED, TIMEOUT = Outcome.PASSED, Outcome.FAILED, Outcome.NOT_STARTED, Outcome.TIMEOUT
SUITE = (("operations", "test_conv", 2.0), ("operations", "test_pool", 3.0), ("lenet", "test_forward", 5.0))


def student(name: str, outcomes, status=Status.GRADED, flags=()) -> SubmissionResult:
    """A submission from (outcome, output) per test of SUITE; passed tests get full points."""
    tests = [Record(test, exercise, points, points if outcome is PASS else 0.0, outcome, output)
             for (exercise, test, points), (outcome, output) in zip(SUITE, outcomes)]
    return SubmissionResult(name, status, tests, 10.0, flags=list(flags))


def hand_made_class() -> ClassReport:
    """Six students with hand-checked scores: 10, 7, 0, 2, 7 and 0 (a grader fault, no tests)."""
    ok = (PASS, "")
    results = [
        student("ada", [ok, ok, ok]),
        student("bob", [ok, (FAIL, POOL_MSG), ok]),
        student("cat", [(NOT_STARTED, "not started yet"), (NOT_STARTED, "not started yet"), (FAIL, FC_MSG)]),
        student("dan", [ok, (FAIL, POOL_MSG), (FAIL, FC_MSG)], flags=["lenet.py: imports pytest"]),
        student(HOSTILE, [ok, (TIMEOUT, ""), ok], status=Status.TIMEOUT, flags=["runtime: <b>wrote a file</b>"]),
        SubmissionResult("eve", Status.ERROR, [], 10.0,
                         notes=[Note(NoteKind.GRADER_FAULT, "the grader failed on this submission: boom")]),
    ]
    return ClassReport(results, 10.0, ("operations", "lenet"), cached=1, elapsed=3.5)


@pytest.fixture
def report() -> ClassReport:
    return hand_made_class()


@pytest.fixture(scope="module")
def page() -> str:
    """The hand-made class's page, rendered once (charts take most of a second)."""
    return html_report.render(hand_made_class())


class Page(HTMLParser):
    """Every id, every link target, every src, and the text of each element with an id."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self.srcs: list[str] = []
        self.tags: set[str] = set()
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.add(tag)
        if "id" in attrs:
            self.ids.append(attrs["id"])
        if "href" in attrs:
            self.hrefs.append(attrs["href"])
        if "src" in attrs:
            self.srcs.append(attrs["src"])


def section(page: str, anchor: str) -> str:
    """The HTML of the <section> with this id."""
    match = re.search(rf'<section[^>]* id="{re.escape(anchor)}">(.*?)</section>', page, re.S)
    assert match, f"no section #{anchor}"
    return match.group(1)


def test_exercise_means_and_pass_rates_are_exact(report):
    stats = {s.id: s for s in html_report.exercise_stats(report)}
    assert list(stats) == ["operations", "lenet"]  # registry order, only what was graded
    ops, lenet = stats["operations"], stats["lenet"]
    assert (ops.points, ops.best, ops.full_marks, ops.students) == (5.0, 5.0, 1, 6)
    assert ops.mean == pytest.approx((5 + 2 + 0 + 2 + 2 + 0) / 6)
    assert ops.pass_rate == pytest.approx(1 / 6)
    assert (lenet.points, lenet.best, lenet.full_marks, lenet.students) == (5.0, 5.0, 3, 6)
    assert lenet.mean == pytest.approx(2.5) and lenet.pass_rate == pytest.approx(0.5)
    assert lenet.title == registry.by_id("lenet").title


def test_hidden_tests_hardest_first_with_most_common_failures(report):
    stats = html_report.hidden_test_stats(report)
    assert [(s.name, s.passed, s.ran) for s in stats] == [
        ("test_pool", 1, 5), ("test_forward", 3, 5), ("test_conv", 4, 5)]  # eve ran nothing
    assert [s.pass_rate for s in stats] == pytest.approx([0.2, 0.6, 0.8])
    pool, forward, conv = stats
    assert pool.failures == ((POOL_MSG, 2), ("not started yet", 1), ("timeout", 1))
    assert forward.failures == ((FC_MSG, 2),) and conv.failures == (("not started yet", 1),)
    assert html_report.hidden_test_stats(report, top=1)[0].failures == ((POOL_MSG, 2),)


def test_page_shows_the_statistics(page):
    ops = section(page, "exercises")
    assert "17%" in ops and "1/6" in ops and "1.83" in ops  # operations: pass rate, full marks, mean
    assert "50%" in ops and "3/6" in ops and "2.5" in ops  # lenet
    tests = section(page, "tests")
    assert tests.index("test_pool") < tests.index("test_forward") < tests.index("test_conv")
    assert f"2×</span> <span class=\"msg\">{html_report._e(POOL_MSG)}" in tests
    assert "1/5" in tests and "20%" in tests


def test_page_is_self_contained_with_an_embedded_histogram(page):
    parsed = Page(page)
    for needle in ("http://", "https://", "<script", "<link", "@import", "url(", "<iframe", "<object"):
        assert needle not in page.lower(), needle
    assert parsed.srcs and all(src.startswith("data:image/png;base64,") for src in parsed.srcs)
    assert all(href.startswith("#") for href in parsed.hrefs)
    histogram = section(page, "distribution")
    png = base64.b64decode(re.search(r'src="data:image/png;base64,([^"]+)"', histogram).group(1))
    image = Image.open(io.BytesIO(png)).convert("L")
    assert image.size[0] >= 600 and image.getextrema()[0] < 100  # drawn on, not blank white


def test_flagged_students_are_listed(page):
    flagged = section(page, "flagged")
    assert "dan" in flagged and "lenet.py: imports pytest" in flagged
    assert "&lt;b&gt;wrote a file&lt;/b&gt;" in flagged and "<b>" not in page
    assert "ada" not in flagged and "bob" not in flagged


def test_every_student_links_to_their_failures(page):
    parsed = Page(page)
    assert len(parsed.ids) == len(set(parsed.ids))
    assert all(href[1:] in parsed.ids for href in parsed.hrefs)
    rows = re.findall(r'<tr><td><a href="#([^"]+)">(.*?)</a></td>', section(page, "students"))
    assert [name for _, name in rows] == ["ada", "bob", "cat", "dan", html_report._e(HOSTILE), "eve"]
    anchors = dict((name, anchor) for anchor, name in rows)
    bob = section(page, anchors["bob"])
    assert "test_pool" in bob and html_report._e(POOL_MSG) in bob and "test_conv" not in bob
    assert "Every test passed" in section(page, anchors["ada"])
    assert "the grader failed on this submission" in section(page, anchors["eve"])


def test_hostile_text_is_escaped(page):
    assert HOSTILE not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<not 1>" not in page and "&amp; stride=2 &lt;not 1&gt;" in page
    assert Page(page).tags <= {"html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "h3", "nav",
                               "a", "section", "div", "p", "span", "img", "table", "thead", "tbody", "tr", "th",
                               "td", "ol", "ul", "li", "strong"}


def test_write_is_the_rendered_page(report, tmp_path):
    target = tmp_path / "out" / "report.html"
    html_report.write(target, report)
    assert target.read_text(encoding="utf-8") == html_report.render(report)
    assert not [p for p in target.parent.iterdir() if p.name.endswith(".tmp")]


def test_empty_class_renders():
    page = html_report.render(ClassReport([], 10.0, tuple(e.id for e in registry.load())))
    assert "0 submissions" in page and "No submission was flagged" in page


def test_score_report_option(report, tmp_path, monkeypatch):
    """`grader score --report` writes the page (grading replaced by the hand-made report)."""
    (tmp_path / "class" / "ada").mkdir(parents=True)
    monkeypatch.setattr(cli.score, "grade_class", lambda *args, **kwargs: report)
    target = tmp_path / "report.html"
    result = CliRunner().invoke(cli.app, ["score", str(tmp_path / "class"), "--sandbox", "none", "--no-cache",
                                          "--report", str(target)])
    assert result.exit_code == 0, result.output
    assert f"wrote {target}" in result.output.replace("\n", "")
    assert target.read_text(encoding="utf-8") == html_report.render(report)


def make_class(n: int, seed: int = 0) -> ClassReport:
    """A generated class of `n` students over the real registry, about five tests per exercise."""
    rng = random.Random(seed)
    suite = [(e.id, f"test_{e.id}_{k}", e.points / 5) for e in registry.load() for k in range(5)]
    messages = ["not started yet", "conv1 gave (1, 6, 32, 32), expected (1, 6, 28, 28): padding=0 trims 2 pixels",
                "loss did not decrease after 3 steps: 2.302 -> 2.305", "fc1 expects 400 features, got 256",
                "returned None, expected a tensor of shape (4, 10)"]
    results = []
    for i in range(n):
        skill = rng.random()
        tests = []
        for exercise, name, points in suite:
            passed = rng.random() < skill
            outcome = PASS if passed else rng.choice([FAIL, FAIL, FAIL, NOT_STARTED, TIMEOUT])
            tests.append(Record(name, exercise, points, points if passed else 0.0, outcome,
                                    "" if passed else rng.choice(messages)))
        flags = ["operations.py: imports pytest"] if rng.random() < 0.05 else []
        results.append(SubmissionResult(f"student_{i:03d}", Status.GRADED, tests, registry.max_points(), flags))
    return ClassReport(results, registry.max_points(), tuple(e.id for e in registry.load()), elapsed=1.0)


def test_large_class_stays_small_and_linked():
    page = html_report.render(make_class(200))
    parsed = Page(page)
    assert len(page.encode()) < 2_000_000
    assert all(href[1:] in parsed.ids for href in parsed.hrefs) and len(parsed.ids) == len(set(parsed.ids))


def browser() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.slow
@pytest.mark.skipif(browser() is None, reason="no chromium on PATH: `make setup` as root installs it "
                                              "(apt-get install chromium)")
def test_browser_renders_the_page(report, tmp_path):
    page = tmp_path / "report.html"
    html_report.write(page, report)
    shot = tmp_path / "shot.png"
    command = [browser(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--hide-scrollbars", f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}",
               "--window-size=1280,2000", page.as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert shot.exists(), done.stderr[-2000:]
    assert shot.stat().st_size > 10_000
    image = Image.open(shot).convert("RGB")
    assert image.size == (1280, 2000)
    assert len(image.getcolors(maxcolors=1 << 20) or []) > 50  # text, charts and colours, not a blank page
