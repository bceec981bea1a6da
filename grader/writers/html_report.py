"""The instructor's class report: one self-contained HTML page of what the class got right and wrong.

Styles and charts are embedded (PNG as data: URIs); the page has no scripts, no web fonts and no
external links, so it can be mailed or archived as one file. Every student-supplied text (ids,
failure messages, flags) is escaped. The statistics are pure functions over a `ClassReport`.
"""

from __future__ import annotations

import base64
import html
import re
import statistics
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from grader import atomic, registry
from grader.grading.results import ClassReport, Outcome, Status, SubmissionResult, TestRecord

TOP_FAILURES = 3
_EPS = 1e-9


@dataclass(frozen=True)
class ExerciseStat:
    """How the class did on one exercise; every student counts, a missing exercise as 0."""

    id: str
    title: str
    points: float
    mean: float
    best: float
    full_marks: int
    students: int

    @property
    def pass_rate(self) -> float:
        """Share of students with full marks on this exercise."""
        return self.full_marks / self.students if self.students else 0.0

    @property
    def mean_share(self) -> float:
        """The mean score as a share of the exercise's points."""
        return self.mean / self.points if self.points else 0.0


@dataclass(frozen=True)
class HiddenTestStat:
    """How the class did on one hidden test, over the submissions that ran it."""

    exercise: str
    name: str
    ran: int
    passed: int
    failures: tuple[tuple[str, int], ...]  # the most common failure messages, with their counts

    @property
    def pass_rate(self) -> float:
        return self.passed / self.ran if self.ran else 0.0


def exercise_stats(report: ClassReport) -> list[ExerciseStat]:
    """Mean, best and full-marks count per exercise, over every student in the report."""
    known = {e.id: e for e in registry.load()}
    stats = []
    for exercise in report.exercises:
        totals = [r.exercise_scores().get(exercise, {"score": 0.0, "max_score": 0.0}) for r in report.results]
        points = max((t["max_score"] for t in totals), default=0.0)
        if not points and exercise in known:
            points = known[exercise].points
        scores = [t["score"] for t in totals]
        stats.append(ExerciseStat(
            id=exercise,
            title=known[exercise].title if exercise in known else exercise,
            points=points,
            mean=round(sum(scores) / len(scores), 6) if scores else 0.0,
            best=max(scores, default=0.0),
            full_marks=sum(1 for s in scores if points > 0 and s >= points - _EPS),
            students=len(scores),
        ))
    return stats


def failure_text(test: TestRecord) -> str:
    """What a failing test said, or its outcome when it said nothing."""
    return test.output.strip() or test.outcome.value.replace("_", " ")


def hidden_test_stats(report: ClassReport, top: int = TOP_FAILURES) -> list[HiddenTestStat]:
    """Every hidden test's pass rate, hardest first, with its `top` most common failure messages."""
    order = {e: i for i, e in enumerate(report.exercises)}
    ran: Counter[tuple[str, str]] = Counter()
    passed: Counter[tuple[str, str]] = Counter()
    messages: dict[tuple[str, str], Counter[str]] = {}
    position: dict[tuple[str, str], int] = {}
    for result in report.results:
        for test in result.tests:
            key = (test.exercise, test.name)
            position.setdefault(key, len(position))
            ran[key] += 1
            if test.outcome is Outcome.PASSED:
                passed[key] += 1
            else:
                messages.setdefault(key, Counter())[failure_text(test)] += 1
    stats = [
        HiddenTestStat(exercise, name, ran[(exercise, name)], passed[(exercise, name)],
                 tuple(sorted(messages.get((exercise, name), Counter()).items(), key=lambda m: (-m[1], m[0]))[:top]))
        for exercise, name in position
    ]
    return sorted(stats, key=lambda s: (s.pass_rate, order.get(s.exercise, len(order)), position[(s.exercise, s.name)]))


def student_anchor(index: int, student: str) -> str:
    """A unique, valid HTML id for the student's failures section (ids are untrusted text)."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", student).strip("-")[:40]
    return f"s{index}-{slug}" if slug else f"s{index}"


def is_full(score: float, maximum: float) -> bool:
    return maximum > 0 and score >= maximum - _EPS


def render(report: ClassReport) -> str:
    """The whole report as one HTML document."""
    exercises = exercise_stats(report)
    tests = hidden_test_stats(report)
    anchors = [student_anchor(i, r.student) for i, r in enumerate(report.results)]
    body = "\n".join([
        _summary(report),
        _distribution(report),
        _exercises(exercises),
        _tests(tests),
        _flagged(report, anchors),
        _students(report, exercises, anchors),
        _failures(report, anchors),
    ])
    title = f"Class report: {len(report.results)} submissions"
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{_e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
            f"<h1>{_e(title)}</h1>\n{_nav()}\n{body}\n</main>\n</body>\n</html>\n")


def write(path: Path, report: ClassReport) -> None:
    """Write the class report as one self-contained HTML file."""
    atomic.write_text(path, render(report))


# --- sections ------------------------------------------------------------------------------

SECTIONS = (("distribution", "Scores"), ("exercises", "Exercises"), ("tests", "Hardest tests"),
            ("flagged", "Flagged"), ("students", "Students"), ("failures", "Failures by student"))


def _nav() -> str:
    links = " ".join(f'<a href="#{key}">{_e(label)}</a>' for key, label in SECTIONS)
    return f'<nav class="toc">{links}</nav>'


def _summary(report: ClassReport) -> str:
    scores = [r.score for r in report.results]
    statuses = Counter(r.status for r in report.results)
    cards = [
        ("submissions", f"{len(scores)}"),
        ("mean", f"{_num(statistics.fmean(scores)) if scores else '–'} / {_num(report.max_score)}"),
        ("median", f"{_num(statistics.median(scores)) if scores else '–'}"),
        ("full marks", f"{sum(1 for s in scores if is_full(s, report.max_score))}"),
        ("graded / error / timeout",
         f"{statuses[Status.GRADED]} / {statuses[Status.ERROR]} / {statuses[Status.TIMEOUT]}"),
        ("flagged", f"{sum(1 for r in report.results if r.flags)}"),
    ]
    items = "".join(f'<div class="card"><div class="value">{_e(v)}</div><div class="label">{_e(k)}</div></div>'
                    for k, v in cards)
    note = f"{report.cached} result(s) from cache; grading took {report.elapsed:.1f} s."
    return f'<section class="summary">{items}</section>\n<p class="muted">{_e(note)}</p>'


def _distribution(report: ClassReport) -> str:
    from grader.writers import plots

    png = plots.score_histogram([r.score for r in report.results], report.max_score)
    return (f'<section id="distribution"><h2>Score distribution</h2>\n'
            f'{_img(png, "Histogram of the students’ total scores")}</section>')


def _exercises(stats: list[ExerciseStat]) -> str:
    from grader.writers import plots

    rows = "".join(
        f"<tr><td><strong>{_e(s.id)}</strong><div class=\"muted small\">{_e(s.title)}</div></td>"
        f'<td class="num">{_num(s.points)}</td><td class="num">{_num(s.mean)}</td>'
        f'<td class="num">{_num(s.best)}</td><td>{_rate(s.mean_share)}</td>'
        f'<td>{_rate(s.pass_rate, f"{s.full_marks}/{s.students}")}</td></tr>'
        for s in stats)
    png = plots.exercise_bars([s.id for s in stats], [s.mean_share for s in stats], [s.pass_rate for s in stats])
    return (f'<section id="exercises"><h2>Exercises</h2>\n'
            f'<p class="muted">Mean over every student (a missing exercise counts as 0); '
            f"pass rate is the share of students with full marks on the exercise.</p>\n"
            f'<table class="exercises"><thead><tr><th>exercise</th><th class="num">points</th>'
            f'<th class="num">mean</th><th class="num">best</th><th>mean %</th><th>pass rate</th></tr></thead>'
            f"<tbody>{rows}</tbody></table>\n"
            f'{_img(png, "Mean score and full-marks rate per exercise")}</section>')


def _tests(stats: list[HiddenTestStat]) -> str:
    rows = []
    for s in stats:
        failures = "".join(f'<li><span class="count">{n}×</span> <span class="msg">{_e(m)}</span></li>'
                           for m, n in s.failures)
        listed = f'<ol class="failures">{failures}</ol>' if failures else "–"
        rows.append(f'<tr><td>{_e(s.exercise)}</td><td class="mono">{_e(s.name)}</td>'
                    f'<td>{_rate(s.pass_rate, f"{s.passed}/{s.ran}")}</td><td>{listed}</td></tr>')
    body = "".join(rows) or '<tr><td colspan="4" class="muted">no test results</td></tr>'
    return (f'<section id="tests"><h2>What the class got wrong</h2>\n'
            f'<p class="muted">Each hidden test’s pass rate over the submissions that ran it, hardest first, '
            f"with its {TOP_FAILURES} most common failure messages.</p>\n"
            f'<table class="tests"><thead><tr><th>exercise</th><th>test</th><th>pass rate</th>'
            f"<th>most common failures</th></tr></thead><tbody>{body}</tbody></table></section>")


def _flagged(report: ClassReport, anchors: list[str]) -> str:
    items = "".join(
        f'<li><a href="#{a}">{_e(r.student)}</a><ul>{"".join(f"<li>{_e(f)}</li>" for f in r.flags)}</ul></li>'
        for r, a in zip(report.results, anchors) if r.flags)
    content = f'<ul class="flagged">{items}</ul>' if items else '<p class="muted">No submission was flagged.</p>'
    return (f'<section id="flagged"><h2>Flagged submissions</h2>\n'
            f'<p class="muted">A flag is not a verdict: it points at code worth reading.</p>\n{content}</section>')


def _students(report: ClassReport, exercises: list[ExerciseStat], anchors: list[str]) -> str:
    head = "".join(f'<th class="num">{_e(s.id)}</th>' for s in exercises)
    rows = []
    for r, a in zip(report.results, anchors):
        scores = r.exercise_scores()
        cells = "".join(_score_cell(scores.get(s.id, {}).get("score", 0.0), s.points) for s in exercises)
        rows.append(f'<tr><td><a href="#{a}">{_e(r.student)}</a></td><td>{_status(r)}</td>'
                    f"{_score_cell(r.score, report.max_score)}<td class=\"num\">{_num(report.max_score)}</td>"
                    f'{cells}<td class="num">{len(r.flags) or ""}</td></tr>')
    return (f'<section id="students"><h2>Students</h2>\n<div class="scroll"><table class="students">'
            f'<thead><tr><th>student</th><th>status</th><th class="num">score</th><th class="num">max</th>{head}'
            f'<th class="num">flags</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div></section>')


def _failures(report: ClassReport, anchors: list[str]) -> str:
    parts = []
    for r, a in zip(report.results, anchors):
        failing = [t for t in r.tests if t.outcome is not Outcome.PASSED]
        notes = "".join(f'<p class="note">{_e(text)}</p>' for text in [r.message] if text)
        notes += "".join(f'<p class="note flag">flag: {_e(f)}</p>' for f in r.flags)
        if failing:
            rows = "".join(f'<tr><td>{_e(t.exercise)}</td><td class="mono">{_e(t.name)}</td>'
                           f'<td>{_e(t.outcome.value.replace("_", " "))}</td>'
                           f'<td class="msg">{_e(failure_text(t))}</td></tr>' for t in failing)
            detail = (f'<table class="failing"><thead><tr><th>exercise</th><th>test</th><th>outcome</th>'
                      f"<th>message</th></tr></thead><tbody>{rows}</tbody></table>")
        elif r.tests:
            detail = '<p class="ok">Every test passed.</p>'
        else:
            detail = '<p class="muted">No test results.</p>'
        parts.append(f'<section class="student" id="{a}"><h3>{_e(r.student)} '
                     f'<span class="muted">{_num(r.score)} / {_num(report.max_score)} · {_status(r)}</span> '
                     f'<a class="back" href="#students">↑ students</a></h3>{notes}{detail}</section>')
    return f'<section id="failures"><h2>Failures by student</h2>\n{"".join(parts)}</section>'


# --- small pieces ------------------------------------------------------------------------


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _num(value: float) -> str:
    return f"{round(value, 2):g}"


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img class="chart" alt="{_e(alt)}" src="data:image/png;base64,{data}">'


def _rate(share: float, detail: str = "") -> str:
    level = "good" if share >= 0.8 else "fair" if share >= 0.5 else "poor"
    width = f"{100 * max(0.0, min(share, 1.0)):.1f}"
    extra = f' <span class="muted small">{_e(detail)}</span>' if detail else ""
    return (f'<div class="rate"><span class="meter"><span class="fill {level}" style="width:{width}%"></span></span>'
            f" {share:.0%}{extra}</div>")


def _score_cell(score: float, maximum: float) -> str:
    kind = " full" if is_full(score, maximum) else " zero" if score <= 0 else ""
    return f'<td class="num{kind}">{_num(score)}</td>'


def _status(result: SubmissionResult) -> str:
    return f'<span class="status {_e(result.status.value)}">{_e(result.status.value)}</span>'


CSS = """
:root { --fg: #1f2937; --muted: #6b7280; --line: #e5e7eb; --bg: #f9fafb; --accent: #2563eb; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); line-height: 1.45;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1240px; margin: 0 auto; padding: 24px 28px 64px; }
h1 { font-size: 1.6rem; margin: 0 0 8px; }
h2 { font-size: 1.2rem; margin: 36px 0 8px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 1rem; margin: 0 0 6px; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
.toc { display: flex; flex-wrap: wrap; gap: 6px 16px; font-size: .9rem; margin-bottom: 16px; }
.muted { color: var(--muted); }
.small { font-size: .82rem; }
.mono, .msg { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .82rem; }
.msg { white-space: pre-wrap; word-break: break-word; }
.summary { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
.card .value { font-size: 1.35rem; font-weight: 600; }
.card .label { color: var(--muted); font-size: .82rem; }
img.chart { display: block; width: 100%; max-width: 768px; height: auto; margin: 12px 0; background: #fff;
  border: 1px solid var(--line); border-radius: 8px; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); font-size: .9rem; }
th, td { padding: 6px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
thead th { background: #f3f4f6; font-weight: 600; font-size: .82rem; position: sticky; top: 0; }
tbody tr:hover { background: #f8fafc; }
table.students th, table.students td { padding: 6px 8px; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.full { color: #15803d; font-weight: 600; }
td.zero { color: #b91c1c; }
.scroll { overflow-x: auto; }
.rate { white-space: nowrap; font-variant-numeric: tabular-nums; }
.meter { display: inline-block; width: 80px; height: 8px; background: var(--line); border-radius: 4px;
  vertical-align: middle; overflow: hidden; }
.fill { display: block; height: 100%; }
.fill.good { background: #16a34a; } .fill.fair { background: #f59e0b; } .fill.poor { background: #dc2626; }
ol.failures { margin: 0; padding-left: 0; list-style: none; }
ol.failures li { display: flex; gap: 6px; margin: 0 0 4px; }
.count { flex: none; min-width: 2.4em; font-weight: 600; color: #b91c1c; font-variant-numeric: tabular-nums; }
.status { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: .78rem; background: #dcfce7;
  color: #166534; }
.status.error { background: #fee2e2; color: #991b1b; }
.status.timeout { background: #fef3c7; color: #92400e; }
ul.flagged > li { margin-bottom: 6px; }
section.student { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px;
  margin: 12px 0; scroll-margin-top: 12px; }
section.student table { border: none; table-layout: fixed; }
table.failing th:nth-child(1) { width: 14%; } table.failing th:nth-child(2) { width: 24%; }
table.failing th:nth-child(3) { width: 11%; }
.mono { overflow-wrap: anywhere; }
.back { float: right; font-weight: normal; font-size: .82rem; }
.note { margin: 4px 0; color: #92400e; }
.ok { color: #15803d; margin: 4px 0; }
@media print { thead th { position: static; } section.student { break-inside: avoid; } }
"""
