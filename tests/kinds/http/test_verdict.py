"""The http verdict from constructed facts (no server): every problem it can report, and a pass."""

from __future__ import annotations

import json
from typing import Any

from opsverify.kinds.http.facts import HttpFacts
from opsverify.kinds.http.model import HttpCheck
from opsverify.kinds.http.verdict import judge
from opsverify.problem import Judgement, Problem

URL = "http://api.example/healthz"


def entry(**keys: Any) -> HttpCheck:
    return HttpCheck.model_validate({"url": URL, **keys})


def response(body: Any = None, status: int = 200, **keys: Any) -> HttpFacts:
    text = body if isinstance(body, str) else json.dumps(body if body is not None else {"ok": True})
    facts = HttpFacts(url=URL, status=status, statuses=[status], text=text, body_bytes=len(text), **keys)
    facts.content_type = facts.content_type or "application/json"
    facts.latencies_ms = facts.latencies_ms or [12.0]
    return facts


def lines(judgement: Judgement) -> list[str]:
    return [problem.text for problem in judgement.problems]


def test_a_matching_response_passes_without_evidence() -> None:
    expect = {
        "status": [200, 204],
        "json": {"status": "ready", "db.up": True},
        "conditions": ["$.jobs < 5"],
        "body_regex": "ready",
        "body_not_regex": "Traceback",
        "headers": {"X-Version": r"^1\."},
        "max_latency_ms": 100,
    }
    facts = response({"status": "ready", "db": {"up": True}, "jobs": 2}, headers={"x-version": "1.4"})
    judgement = judge(entry(expect=expect), facts)
    assert judgement.passed
    assert judgement == Judgement([], "")


def test_an_unreachable_service_is_one_connection_problem() -> None:
    facts = HttpFacts(
        url=URL, error="connection refused by api.example:80 (target unreachable: is the service running?)"
    )
    judgement = judge(entry(expect={"json": {"ok": True}}), facts)
    assert judgement.problems == [Problem("connection", facts.error or "")]
    assert judgement.evidence == f"GET {URL} -> no response"


def test_status_one_code_or_a_list() -> None:
    assert judge(entry(), response(status=503)).problems == [Problem("status", "503", expected="200")]
    assert lines(judge(entry(expect={"status": [200, 204]}), response(status=500))) == [
        "status: expected [200, 204], got 500"
    ]


def test_json_values_missing_keys_and_booleans() -> None:
    expect = {"json": {"status": "ready", "count": 1, "db.up": True, "missing": 0}}
    facts = response({"status": "down", "count": True, "db": {"up": True}})
    assert lines(judge(entry(expect=expect), facts)) == [
        'json status: expected "ready", got "down"',
        "json count: expected 1, got true",
        "json missing: expected 0, got no such key",
    ]


def test_a_body_that_is_not_json() -> None:
    expect = {"json": {"ok": True}}
    assert lines(judge(entry(expect=expect), response("<html>", content_type="text/html"))) == [
        "body: expected a JSON document, got text/html"
    ]
    facts = response("<html>")
    facts.content_type = ""
    assert lines(judge(entry(expect={"conditions": ["$.ok == true"]}), facts)) == [
        "body: expected a JSON document, got no content type"
    ]


def test_a_false_condition_shows_the_values() -> None:
    expect = {"conditions": ["$.current == $.expected", "$.dead == 0", "$.gone > 1"]}
    facts = response({"current": "0085", "expected": "0086", "dead": 0})
    assert lines(judge(entry(expect=expect), facts)) == [
        "condition '$.current == $.expected': expected true, got false: "
        '$.current = "0085", $.expected = "0086"',
        "condition '$.gone > 1': expected true, got false: $.gone is missing",
    ]


def test_body_regexes() -> None:
    facts = response("status: degraded\nTraceback (most recent call last)")
    expect = {"body_regex": "^status: ok", "body_not_regex": "Traceback.*"}
    assert lines(judge(entry(expect=expect), facts)) == [
        "body: expected to match /^status: ok/, got no match",
        "body: expected no match for /Traceback.*/, got 'Traceback (most recent call last)'",
    ]


def test_headers_missing_or_not_matching() -> None:
    facts = response(headers={"x-version": "2.0.1"})
    expect = {"headers": {"X-Version": r"^1\.", "X-Request-Id": "."}}
    assert judge(entry(expect=expect), facts).problems == [
        Problem("header X-Version", "'2.0.1'", expected="to match /^1\\./"),
        Problem("header X-Request-Id", "no such header", expected="to match /./"),
    ]


def test_latency_of_one_request_and_p95_over_samples() -> None:
    expect = {"max_latency_ms": 50}
    assert lines(judge(entry(expect=expect), response(latencies_ms=[80.4]))) == [
        "latency: expected <= 50 ms, got 80 ms"
    ]
    facts = response(latencies_ms=[10.0] * 18 + [90.0, 95.0])
    assert lines(judge(entry(expect=expect, samples=20), facts)) == [
        "p95 over 20 samples: expected <= 50 ms, got 90 ms"
    ]


def test_evidence_is_the_request_the_status_and_the_body_start() -> None:
    facts = response({"ok": False, "error": "db down"}, status=500, latencies_ms=[7.0])
    judgement = judge(entry(), facts)
    assert judgement.evidence == f'GET {URL} -> 500 in 7 ms\n{{"ok": false, "error": "db down"}}'
    facts.waited_s = 61.0
    assert judge(entry(wait_until_ready="2m"), facts).evidence.startswith(
        f"GET {URL} -> 500 in 7 ms, waited 61.0s\n"
    )
