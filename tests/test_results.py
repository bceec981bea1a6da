"""Results are typed data end to end: a gradebook written as JSON reads back into the same records,
field for field, so nothing is parsed out of a message (the result cache relies on it)."""

from __future__ import annotations

import json

from grader.grading import cache, results
from grader.grading.results import ClassReport, Note, NoteKind, Outcome, Status, SubmissionResult
from grader.writers import json_out

Record = results.TestRecord  # not imported as Test*: pytest would try to collect it


def every_kind_of_result() -> ClassReport:
    records = [Record(f"test_{o.value}", "lenet", 2.5, 2.5 if o is Outcome.PASSED else 0.0, o,
                      output=f"{o.value}: ünïcode \"quoted\"\nsecond line", duration=0.125,
                      advice=["call net.eval()"] if o is Outcome.FAILED else [])
               for o in Outcome]
    results = [
        SubmissionResult("ada", Status.GRADED, records, 15.0, flags=["lenet.py: imports pytest"],
                         missing=["training.py"], notes=[Note(kind, f"{kind.value} note") for kind in NoteKind],
                         execution_time=12.5, isolation="uid"),
        SubmissionResult("bob", Status.TIMEOUT, [], 15.0),
        SubmissionResult("carol", Status.ERROR, records[:1], 15.0, notes=[Note(NoteKind.UNREADABLE, "bad zip")]),
    ]
    return ClassReport(results, 15.0, ("lenet", "training"), cached=1, elapsed=3.25, uids=(60600, 60601))


def test_a_json_gradebook_reads_back_into_the_same_report(tmp_path):
    report = every_kind_of_result()
    json_out.write(tmp_path / "grades.json", report)
    data = json.loads((tmp_path / "grades.json").read_text())
    assert ClassReport.from_json(data) == report
    ada = data["submissions"][0]
    assert ada["score"] == 2.5 and ada["exercises"] == {"lenet": {"score": 2.5, "max_score": 15.0}}
    assert ada["message"].startswith("missing modules: training.py; unreadable note")
    assert data["run"] == {"cached": 1, "elapsed": 3.25, "uids": [60600, 60601], "unreadable": 2}


def test_the_derived_fields_come_from_the_records_not_the_file(tmp_path):
    data = every_kind_of_result().to_json()
    data["submissions"][0].update(score=99, message="forged", exercises={})
    ada = ClassReport.from_json(data).results[0]
    assert ada.score == 2.5 and ada.message != "forged" and ada.unreadable


def test_a_cached_result_is_the_result_that_was_stored(tmp_path):
    stored = cache.ResultCache(tmp_path)
    for result in every_kind_of_result().results:
        stored.put(f"{result.student}-key", result)
        assert stored.get(f"{result.student}-key", result.student) == result
    assert stored.get("ada-key", "ada_renamed").student == "ada_renamed", "a resubmission under another name"
