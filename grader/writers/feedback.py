"""Feedback for every student: one self-contained HTML page each, DIR/<student>.html.

A page holds one student's total and per-exercise scores, each failed check with its message,
the first (gentlest) hint of each of the exercise's visible checks, the notes and flags on the
submission, and what to try next. The later hint tiers end with the code itself, so they stay
with the student's own `python exercises/kit.py hint`. It is
built from that student's result alone (nothing of another student's), from what the checks
reported (never the hidden suites' source or their inputs), every text escaped; styles are
embedded and there are no scripts, fonts or links out, so it can be mailed as it is.
"""

from __future__ import annotations

import html
import json
import re
from functools import cache
from pathlib import Path

from grader import atomic, registry
from grader.authoring.stubs import GENERATED
from grader.grading.results import ClassReport, Outcome, SubmissionResult, TestRecord
from grader.paths import EXERCISES

OUTCOME_LABELS = {Outcome.FAILED: "failed", Outcome.NOT_STARTED: "not started yet", Outcome.ERROR: "error",
                  Outcome.TIMEOUT: "took too long", Outcome.SKIPPED: "skipped"}


def file_name(student: str) -> str:
    """The page's file name: the student id, unless it cannot be one."""
    if student not in ("", ".", "..") and "/" not in student and "\0" not in student:
        return f"{student}.html"
    return (re.sub(r"[^A-Za-z0-9_.-]+", "-", student).strip(".-") or "student") + ".html"


def render(result: SubmissionResult, exercises: tuple[str, ...], max_score: float) -> str:
    """One student's page. `exercises`: the graded exercises, in order; `max_score`: what they are worth."""
    known = {e.id: e for e in registry.load()}
    scores = result.exercise_scores()
    rows, sections = [], []
    for exercise in exercises:
        entry = known.get(exercise)
        points = scores.get(exercise, {}).get("max_score") or (entry.points if entry else 0.0)
        score = scores.get(exercise, {}).get("score", 0.0)
        title = entry.title if entry else exercise
        state = "full" if points and score >= points else "zero" if score <= 0 else "part"
        rows.append(f'<tr><td><strong>{_e(exercise)}</strong><div class="muted">{_e(title)}</div></td>'
                    f'<td class="num {state}">{_n(score)} / {_n(points)}</td></tr>')
        failed = [t for t in result.tests if t.exercise == exercise and t.outcome is not Outcome.PASSED]
        if failed:
            sections.append(_exercise_section(exercise, title, failed, first_hints(exercise)))
    body = [
        f'<p class="total"><span class="big">{_n(result.score)} / {_n(max_score)}</span> '
        f'<span class="status {_e(result.status.value)}">{_e(result.status.value)}</span></p>',
        _notes(result),
        _next_step(result, exercises, known),
        f'<h2>Exercises</h2><table class="scores"><tbody>{"".join(rows)}</tbody></table>',
        *sections,
        _flags(result),
    ]
    title = f"Feedback for {result.student}"
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{_e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n<h1>{_e(title)}</h1>\n"
            + "\n".join(part for part in body if part) + "\n</main>\n</body>\n</html>\n")


def write(folder: Path, report: ClassReport) -> None:
    """Write FOLDER/<student>.html for every student of the report."""
    for result in report.results:
        atomic.write_text(Path(folder) / file_name(result.student), render(result, report.exercises, report.max_score))


@cache
def first_hints(exercise: str) -> tuple[str, ...]:
    """The first hint of each visible check of `exercise`, from exercises/_kit/generated/<id>.json."""
    path = EXERCISES / GENERATED / f"{exercise}.json"
    if not path.is_file():
        return ()
    hints: dict[str, list[str]] = json.loads(path.read_text(encoding="utf-8"))["hints"]
    return tuple(dict.fromkeys(tiers[0] for tiers in hints.values() if tiers))


def _notes(result: SubmissionResult) -> str:
    items = [f"missing modules: {', '.join(result.missing)}"] if result.missing else []
    items += [note.text for note in result.notes]
    if not items:
        return ""
    return '<div class="notes"><h2>About your submission</h2><ul>' + \
        "".join(f"<li>{_e(item)}</li>" for item in items) + "</ul></div>"


def _next_step(result: SubmissionResult, exercises: tuple[str, ...], known: dict[str, registry.Exercise]) -> str:
    """The first exercise, in course order, without full marks, and where to start on it."""
    scores = result.exercise_scores()
    for exercise in exercises:
        got = scores.get(exercise)
        if got is None or got["score"] < got["max_score"]:
            entry = known.get(exercise)
            first = next((t for t in result.tests if t.exercise == exercise and t.outcome is not Outcome.PASSED), None)
            detail = f" Start with the check “{_e(_check_name(first))}”." if first else ""
            hints = first_hints(exercise)
            hint = f'<p class="hint">Hint: {_e(hints[0])}</p>' if hints else ""
            module = f" ({_e(entry.module)})" if entry else ""
            return (f'<div class="next"><h2>What to try next</h2><p>Work on <strong>{_e(exercise)}</strong>{module}.'
                    f"{detail} Run <code>pytest exercises/</code> to see its visible checks.</p>{hint}</div>")
    return '<div class="next"><h2>What to try next</h2><p>Every check passed: well done.</p></div>'


def _exercise_section(exercise: str, title: str, failed: list[TestRecord], hints: tuple[str, ...]) -> str:
    items = []
    for test in failed:
        label = OUTCOME_LABELS.get(test.outcome, test.outcome.value)
        shown = test.output.strip() and test.output.strip() != label
        message = f'<pre class="msg">{_e(test.output)}</pre>' if shown else ""
        advice = "".join(f'<p class="advice">{_e(a)}</p>' for a in test.advice)
        items.append(f'<li><span class="check">{_e(_check_name(test))}</span> <span class="label">{_e(label)}</span> '
                     f'<span class="muted">({_n(test.max_score)} points)</span>{message}{advice}</li>')
    hint_list = "".join(f"<li>{_e(h)}</li>" for h in hints)
    hint_block = (f'<div class="hints"><h3>Hints</h3><ul>{hint_list}</ul><p class="muted">More, up to the code '
                  f"itself: <code>python exercises/kit.py hint</code></p></div>") if hints else ""
    return (f'<section class="exercise"><h2>{_e(exercise)}: what did not pass</h2><p class="muted">{_e(title)}</p>'
            f'<ul class="failed">{"".join(items)}</ul>{hint_block}</section>')


def _flags(result: SubmissionResult) -> str:
    if not result.flags:
        return ""
    items = "".join(f"<li>{_e(flag)}</li>" for flag in result.flags)
    return (f'<section class="flags"><h2>Noticed in your code</h2><p class="muted">Not a penalty: a teacher may '
            f"look at these.</p><ul>{items}</ul></section>")


def _check_name(test: TestRecord) -> str:
    """A check's name for people: test_net_output_shape -> net output shape."""
    return test.name.removeprefix("test_").replace("_", " ")


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _n(value: float) -> str:
    return f"{round(value, 2):g}"


CSS = """
:root { --fg: #1f2937; --muted: #6b7280; --line: #e5e7eb; --bg: #f9fafb; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 880px; margin: 0 auto; padding: 24px 28px 64px; }
h1 { font-size: 1.5rem; margin: 0 0 8px; } h2 { font-size: 1.15rem; margin: 28px 0 8px; } h3 { font-size: 1rem; }
.muted { color: var(--muted); font-size: .88rem; }
.total .big { font-size: 2rem; font-weight: 700; margin-right: 12px; }
.status { display: inline-block; padding: 1px 10px; border-radius: 999px; background: #dcfce7; color: #166534; }
.status.error { background: #fee2e2; color: #991b1b; } .status.timeout { background: #fef3c7; color: #92400e; }
.notes, .next, section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px;
  margin: 16px 0; }
.notes { border-color: #fcd34d; }
.notes h2, .next h2, section h2 { margin-top: 4px; }
table.scores { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid var(--line); }
table.scores td { padding: 8px 12px; border-bottom: 1px solid var(--line); vertical-align: top; }
.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; font-weight: 600; }
.full { color: #15803d; } .zero { color: #b91c1c; } .part { color: #92400e; }
ul.failed { padding-left: 18px; } ul.failed li { margin: 8px 0; }
.check { font-weight: 600; } .label { color: #b91c1c; }
pre.msg { white-space: pre-wrap; word-break: break-word; background: #f3f4f6; border-radius: 6px; padding: 8px 10px;
  margin: 6px 0 0; font: .85rem/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.hint, .advice { color: #1e40af; } code { background: #f3f4f6; padding: 0 4px; border-radius: 4px; }
"""
