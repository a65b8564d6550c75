"""The logs verdict from constructed facts: each problem it can produce, the evidence, and a pass."""

from __future__ import annotations

from datetime import datetime

from opsverify.kinds.logs.facts import LogLine, LogsFacts
from opsverify.kinds.logs.model import LogsCheck
from opsverify.kinds.logs.verdict import judge
from opsverify.problem import Problem

START = datetime(2026, 1, 1, 12, 0, 0)


def entry(**keys: object) -> LogsCheck:
    return LogsCheck.model_validate({"path": "app.log*", **keys})


def facts(**values: object) -> LogsFacts:
    return LogsFacts(globs=["app.log*"], files=["/l/app.log.1", "/l/app.log"], lines_read=100, **values)  # type: ignore[arg-type]


def test_no_problem_within_the_bounds_and_the_lines_are_the_evidence() -> None:
    found = facts(count=1, matches=[LogLine("/l/app.log", 7, "ERROR once")])
    judgement = judge(entry(level="ERROR", max=1), found)
    assert judgement.passed
    assert judgement.evidence.startswith("/l/app.log:7: ERROR once\nscanned 2 files, 100 lines in ")


def test_no_file_found_names_the_globs_and_the_fix_without_evidence() -> None:
    judgement = judge(entry(), LogsFacts(globs=["app.log*"], error="no log file matches /l/app.log*"))
    assert judgement.problems == [
        Problem(
            "path",
            "no log file matches /l/app.log*",
            fix="fix `path` (globs like app.log* include rotated files)",
        )
    ]
    assert judgement.evidence == ""


def test_more_lines_than_max_in_the_window() -> None:
    found = facts(count=3, window_start=START)
    (problem,) = judge(entry(level="ERROR", since="24h", max=1), found).problems
    assert problem == Problem(
        "matching lines",
        "3 lines of level ERROR or above in the last 24h (since 2026-01-01 12:00:00Z) in 2 files",
        expected="at most 1",
    )
    assert problem.text.startswith("matching lines: expected at most 1, got 3 lines of level ERROR")


def test_fewer_lines_than_min_in_the_whole_files() -> None:
    (problem,) = judge(entry(patterns=["backup completed"], min=1), facts()).problems
    assert problem.text == (
        "matching lines: expected at least 1, got 0 lines matching /backup completed/ in the whole files in 2 files"
    )


def test_unreadable_files_are_problems_beside_the_count() -> None:
    found = facts(
        unreadable={"/l/app.log.1": "permission denied (run the checks as a user that can read it)"}
    )
    (problem,) = judge(entry(level="ERROR"), found).problems
    assert problem.text == (
        "log file: could not read /l/app.log.1: permission denied (run the checks as a user that can read it)"
    )


def test_text_read_as_json_asks_for_format_text() -> None:
    (many,) = judge(entry(format="json"), facts(json_checked=3, not_json=3)).problems
    assert many.text == "format: none of the 3 lines parsed is a JSON object; are these logs `format: text`?"
    (one,) = judge(entry(format="json"), facts(json_checked=1, not_json=1)).problems
    assert one.found == "the 1 line parsed is not a JSON object"
    assert judge(entry(format="json"), facts(json_checked=3, not_json=2)).passed
    assert judge(entry(format="text"), facts(json_checked=3, not_json=3)).passed
