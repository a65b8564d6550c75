"""The command verdict from constructed facts (no process)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from opsverify.kinds.command.facts import CommandFacts
from opsverify.kinds.command.model import CommandCheck
from opsverify.kinds.command.verdict import judge
from opsverify.problem import Judgement, Problem


def entry(**keys: Any) -> CommandCheck:
    return CommandCheck.model_validate({"run": ["alembic", "heads"], **keys})


def ran(exit_code: int = 0, stdout: str = "", stderr: str = "", **keys: Any) -> CommandFacts:
    return CommandFacts("this machine", "alembic heads", exit_code, stdout, stderr, 0.1, **keys)


def texts(check: CommandCheck, facts: CommandFacts) -> list[str]:
    return [problem.text for problem in judge(check, facts).problems]


def test_exit_code_and_equality() -> None:
    assert texts(entry(), ran()) == []
    assert texts(entry(), ran(2)) == ["exit code: expected 0, got 2"]
    assert texts(entry(expect={"exit_code": [0, 1]}), ran(1)) == []
    integrity = entry(run=["sqlite3", "data/emailops.db", "PRAGMA integrity_check;"], expect={"stdout": "ok"})
    assert texts(integrity, ran(stdout="ok\n")) == []
    assert texts(integrity, ran(stdout="*** in database main ***\nPage 5: never used\n")) == [
        "stdout: expected 'ok', got '*** in database main ***\\nPage 5: never used'"
    ]


def test_regexes_and_lines() -> None:
    heads = entry(expect={"lines": 1, "stdout_regex": r"\(head\)$"})
    assert texts(heads, ran(stdout="ae1027a6acf (head)\n")) == []
    assert texts(heads, ran(stdout="a1 (head)\nb2 (head)\n")) == ["stdout lines: expected 1, got 2"]
    errors = entry(expect={"stderr_not_regex": "ERROR"})
    assert texts(errors, ran(stderr="INFO ok\nERROR disk full\n")) == [
        "stderr: expected no match of /ERROR/, got the line 'ERROR disk full'"
    ]
    assert texts(entry(expect={"min_lines": 3}), ran(stdout="a\n")) == [
        "stdout lines: expected at least 3, got 1"
    ]


def test_json_paths() -> None:
    check = entry(expect={"json": {"status": "ok", "queue.depth": 0}, "conditions": ["$.workers >= 2"]})
    assert texts(check, ran(stdout='{"status": "ok", "queue": {"depth": 0}, "workers": 2}')) == []
    assert texts(check, ran(stdout='{"status": "down", "workers": 1}')) == [
        'json status: expected "ok", got "down"',
        "json queue.depth: expected 0, got no such key",
        "json $.workers >= 2: $.workers = 1",
    ]
    (problem,) = texts(check, ran(stdout="oops"))
    assert problem.startswith("stdout: expected JSON, got not JSON")


def test_timeout_and_unreachable() -> None:
    (problem,) = texts(entry(timeout="2s"), ran(None, timed_out=True))
    assert problem.startswith("`alembic heads`: still running after 2s: killed (timeout)")
    facts = CommandFacts("ops@app1", "alembic heads", error="connection refused by ops@app1")
    assert texts(entry(), facts) == ["command: connection refused by ops@app1"]


def test_output_in_the_evidence_is_cut() -> None:
    judgement = judge(entry(), ran(1, stdout="x" * 5000))
    assert "4400 more characters" in judgement.evidence
    assert len(judgement.evidence) < 1000


def test_bad_input() -> None:
    with pytest.raises(ValidationError, match=r"`run` is a string .* but `shell` is not true"):
        entry(run="alembic heads | wc -l")
    with pytest.raises(ValidationError, match="needs `run` as one string"):
        entry(shell=True)
    with pytest.raises(ValidationError, match="invalid regular expression"):
        entry(expect={"stdout_regex": "("})
    with pytest.raises(ValidationError, match="unknown via: scheme 'ftp'"):
        entry(via="ftp://x")


def test_a_timeout_is_one_problem_with_its_fix_and_the_run_as_evidence() -> None:
    facts = ran(None, stdout="migrating...\n", timed_out=True)
    judgement = judge(entry(timeout="2s"), facts)
    assert judgement.problems == [
        Problem(
            "`alembic heads`",
            "still running after 2s: killed (timeout)",
            fix="raise `timeout:` if it is just slow, or find what it waits for",
        )
    ]
    assert judgement.evidence == facts.summary()
    assert "killed at its timeout" in judgement.evidence


def test_one_allowed_exit_code_is_named_alone_and_several_as_a_list() -> None:
    assert texts(entry(expect={"exit_code": [0, 1]}), ran(2)) == ["exit code: expected one of [0, 1], got 2"]
    assert texts(entry(expect={"exit_code": [3]}), ran(2)) == ["exit code: expected 3, got 2"]


def test_a_regex_that_does_not_match_names_the_stream_and_the_output() -> None:
    check = entry(expect={"stdout_regex": "^ok$"})
    assert judge(check, ran(stdout="checking\nfailed\n")).problems == [
        Problem("stdout", "'checking\\nfailed'", expected="a match of /^ok$/")
    ]


def test_regexes_match_any_line_not_only_the_whole_output() -> None:
    assert texts(entry(expect={"stdout_regex": "^ok$"}), ran(stdout="checking\nok\ndone\n")) == []
    errors = entry(expect={"stderr_not_regex": "^ERROR"})
    assert texts(errors, ran(stderr="INFO start\nINFO ERROR is a word here\n")) == []
    assert texts(errors, ran(stderr="INFO start\nERROR disk full\nINFO retrying\n")) == [
        "stderr: expected no match of /^ERROR/, got the line 'ERROR disk full'"
    ]


@pytest.mark.parametrize(
    "stderr",
    [
        "ERROR disk full\nINFO retrying\n",  # the first line
        "\nERROR disk full\nINFO retrying\n",  # after a blank first line
        "INFO a\nINFO b\nINFO c ERROR disk full\nINFO retrying\n",  # the third line, not the first's end
    ],
)
def test_a_forbidden_match_shows_exactly_its_own_line(stderr: str) -> None:
    (problem,) = judge(entry(expect={"stderr_not_regex": "ERROR"}), ran(stderr=stderr)).problems
    line = next(line for line in stderr.splitlines() if "ERROR" in line)
    assert problem.found == f"the line {line!r}"


@pytest.mark.parametrize(("length", "shown"), [(119, "x" * 119), (120, "x" * 120), (121, "x" * 120 + "…")])
def test_output_in_a_problem_is_cut_after_120_characters(length: int, shown: str) -> None:
    (problem,) = judge(entry(expect={"stdout": "ok"}), ran(stdout="x" * length)).problems
    assert problem.found == repr(shown)


def test_json_alone_or_conditions_alone_are_judged() -> None:
    json_only = entry(expect={"json": {"status": "ok"}})
    assert texts(json_only, ran(stdout='{"status": "down"}')) == ['json status: expected "ok", got "down"']
    conditions_only = entry(expect={"conditions": ["$.workers >= 2"]})
    assert texts(conditions_only, ran(stdout='{"workers": 1}')) == ["json $.workers >= 2: $.workers = 1"]


def test_json_problems_come_beside_the_exit_code() -> None:
    check = entry(expect={"json": {"status": "ok"}})
    assert texts(check, ran(1, stdout='{"status": "down"}')) == [
        "exit code: expected 0, got 1",
        'json status: expected "ok", got "down"',
    ]


def test_a_passing_run_has_no_evidence_and_a_failing_one_has_the_run() -> None:
    assert judge(entry(), ran(stdout="ok\n")) == Judgement([], "")
    facts = ran(1, stdout="ok\n")
    assert judge(entry(), facts).evidence == facts.summary()
