"""Problems are data; their one-line text is what the terminal and messages show."""

from __future__ import annotations

from opsverify.problem import Judgement, Problem, failure_text
from opsverify.redaction import SECRETS


def test_expected_and_found() -> None:
    assert Problem("status", "503", "200").text == "status: expected 200, got 503"


def test_an_observation_without_expectation_and_a_fix() -> None:
    problem = Problem("chain", "not verified: self-signed certificate", fix="serve the full chain")
    assert problem.text == "chain: not verified: self-signed certificate; serve the full chain"


def test_the_subject_is_not_said_twice() -> None:
    assert Problem("connection", "connection refused by db:5432").text == "connection refused by db:5432"


def test_failure_text_and_json_are_redacted() -> None:
    SECRETS.add("problem-secret-42")
    problem = Problem("token", "problem-secret-42 was refused", "accepted")
    text = failure_text("http:api", "prod", [problem], "Authorization: Bearer problem-secret-42")
    assert "problem-secret-42" not in text
    assert text.splitlines()[:2] == [
        "http:api failed on target prod:",
        "  - token: expected accepted, got *** was refused",
    ]
    assert "problem-secret-42" not in str(problem.as_json())
    assert Problem.from_json(Problem("a", "b", "c", "d").as_json()) == Problem("a", "b", "c", "d")


def test_a_judgement_without_problems_passed() -> None:
    assert Judgement().passed
    assert not Judgement([Problem("x", "y")]).passed
