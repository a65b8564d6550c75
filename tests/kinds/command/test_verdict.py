"""The command verdict from constructed facts (no process)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from opsverify.kinds.command.facts import CommandFacts
from opsverify.kinds.command.model import CommandCheck
from opsverify.kinds.command.verdict import judge


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
