"""The http probe and its verdict against an HTTP server on a real socket: what comes back."""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from opsverify.kinds.base import ProbeContext
from opsverify.kinds.http.facts import HttpFacts
from opsverify.kinds.http.model import HttpCheck
from opsverify.kinds.http.probe import probe
from opsverify.kinds.http.verdict import judge
from tests.conftest import LocalHTTPServer, Response, json_response, refused_port

# CleanWithSnapshot's /healthz (guide: "Health Monitoring"), healthy and unhealthy.
READY = {
    "status": "ready",
    "db_connected": True,
    "migrations_current": True,
    "current_revision": "0086",
    "expected_revision": "0086",
}
UNHEALTHY = {
    "status": "unhealthy",
    "db_connected": False,
    "migrations_current": False,
    "current_revision": "0085",
    "expected_revision": "0086",
    "error": "Database connection failed",
}
HEALTHZ_EXPECT = {
    "json": {"status": "ready", "db_connected": True},
    "conditions": ["$.current_revision == $.expected_revision"],
}


def run(url: str, base_dir: Path | None = None, **keys: Any) -> tuple[HttpCheck, HttpFacts]:
    entry = HttpCheck.model_validate({"url": url, "timeout": 2, **keys})
    return entry, probe(entry, ProbeContext("test", base_dir or Path.cwd()))


def problems(entry: HttpCheck, facts: HttpFacts) -> list[str]:
    """The verdict's problems, one line each as the terminal shows them."""
    return [problem.text for problem in judge(entry, facts).problems]


def slow(seconds: float, response: Response) -> Any:
    def handler(request: BaseHTTPRequestHandler) -> Response:
        time.sleep(seconds)
        return response

    return handler


def test_healthy_json_passes(http_server: LocalHTTPServer) -> None:
    http_server.routes["/healthz"] = json_response(READY)
    entry, facts = run(f"{http_server.url}/healthz", expect=HEALTHZ_EXPECT)
    assert problems(entry, facts) == []
    assert facts.status == 200
    assert facts.attempts == 1
    assert len(facts.latencies_ms) == 1
    assert facts.content_type == "application/json"


def test_wrong_json_names_each_field(http_server: LocalHTTPServer) -> None:
    http_server.routes["/healthz"] = json_response(UNHEALTHY)
    entry, facts = run(f"{http_server.url}/healthz", expect=HEALTHZ_EXPECT)
    assert problems(entry, facts) == [
        'json status: expected "ready", got "unhealthy"',
        "json db_connected: expected true, got false",
        "condition '$.current_revision == $.expected_revision': expected true, got false: "
        '$.current_revision = "0085", $.expected_revision = "0086"',
    ]
    assert "Database connection failed" in facts.excerpt()


@pytest.mark.parametrize(
    ("condition", "holds"),
    [
        ("$.outbox_dead_count == 0", True),
        ("$.outbox_dead_count < 5", True),
        ("$.queue.pending <= 10", False),
        ("$.workers >= 1", True),
        ("$.env != production", False),
        ("$.ok == true", True),
        ("$.missing > 1", False),
    ],
)
def test_conditions(http_server: LocalHTTPServer, condition: str, holds: bool) -> None:
    # EmailOps' healthcheck JSON plus counters a CleanWithSnapshot-style API reports.
    body = {"ok": True, "env": "production", "workers": 1, "outbox_dead_count": 0, "queue": {"pending": 12}}
    http_server.routes["/health"] = json_response(body)
    entry, facts = run(f"{http_server.url}/health", expect={"conditions": [condition]})
    assert (problems(entry, facts) == []) is holds


def test_503_and_status_lists(http_server: LocalHTTPServer) -> None:
    http_server.routes["/health"] = json_response({"status": "degraded"}, status=503)
    entry, facts = run(f"{http_server.url}/health")
    assert problems(entry, facts) == ["status: expected 200, got 503"]
    entry, facts = run(f"{http_server.url}/health", expect={"status": [200, 503]})
    assert problems(entry, facts) == []


def test_redirect_is_followed_unless_switched_off(http_server: LocalHTTPServer) -> None:
    http_server.routes["/old"] = (302, {"Location": "/healthz"}, b"")
    http_server.routes["/healthz"] = json_response(READY)
    entry, facts = run(f"{http_server.url}/old", expect=HEALTHZ_EXPECT)
    assert problems(entry, facts) == []
    assert facts.redirects == ["/healthz"]
    entry, facts = run(f"{http_server.url}/old", follow_redirects=False)
    assert problems(entry, facts) == ["status: expected 200, got 302"]


def test_garbage_body_is_not_json(http_server: LocalHTTPServer) -> None:
    garbage = bytes(range(256)) * 4
    http_server.routes["/health"] = (200, {"Content-Type": "application/json"}, garbage)
    entry, facts = run(f"{http_server.url}/health", expect={"json": {"ok": True}})
    assert problems(entry, facts) == ["body: expected a JSON document, got application/json"]
    excerpt = facts.excerpt(limit=200)
    assert all(ch.isprintable() or ch in "\n\t" for ch in excerpt)
    assert excerpt.endswith("(1024 bytes)")


def test_huge_body_is_capped(http_server: LocalHTTPServer) -> None:
    http_server.routes["/big"] = (200, {"Content-Type": "text/plain"}, b"x" * 6_000_000)
    entry, facts = run(f"{http_server.url}/big")
    assert facts.truncated
    assert facts.body_bytes == 5_000_000
    assert problems(entry, facts) == []
    entry, facts = run(f"{http_server.url}/big", max_body_bytes=4096, expect={"body_regex": "^y"})
    assert facts.body_bytes == 4096
    assert problems(entry, facts) == ["body: expected to match /^y/, got no match"]
    assert facts.excerpt().endswith("… (4096 bytes read, truncated)")


def test_body_regexes_and_headers(http_server: LocalHTTPServer) -> None:
    headers = {"X-App-Version": "1.2.3", "Cache-Control": "no-store"}
    http_server.routes["/health"] = json_response({"status": "healthy", "version": "1.2.3"}, headers=headers)
    expect = {
        "body_regex": '"status": "healthy"',
        "body_not_regex": "error|Traceback",
        "headers": {"X-App-Version": r"^1\.", "cache-control": "no-store"},
    }
    entry, facts = run(f"{http_server.url}/health", expect=expect)
    assert problems(entry, facts) == []
    expect = {"body_not_regex": "health\\w+", "headers": {"X-App-Version": "^2", "X-Request-Id": "."}}
    entry, facts = run(f"{http_server.url}/health", expect=expect)
    assert problems(entry, facts) == [
        "body: expected no match for /health\\w+/, got 'healthy'",
        "header X-App-Version: expected to match /^2/, got '1.2.3'",
        "header X-Request-Id: expected to match /./, got no such header",
    ]


def test_timeout(http_server: LocalHTTPServer) -> None:
    http_server.routes["/slow"] = slow(1.0, json_response(READY))
    entry, facts = run(f"{http_server.url}/slow", timeout=0.2)
    assert problems(entry, facts) == [
        f"connection: no response from 127.0.0.1:{http_server.port} within 0.2s (timeout)"
    ]


def test_max_latency_is_the_p95_over_samples(http_server: LocalHTTPServer) -> None:
    http_server.routes["/slowish"] = slow(0.06, json_response(READY))
    expect = {"max_latency_ms": 20}
    entry, facts = run(f"{http_server.url}/slowish", samples=4, expect=expect)
    assert len(facts.latencies_ms) == 4
    assert facts.statuses == [200] * 4
    (problem,) = problems(entry, facts)
    assert problem.startswith("p95 over 4 samples: expected <= 20 ms, got ")
    entry, facts = run(f"{http_server.url}/slowish", samples=3, expect={"max_latency_ms": 2000})
    assert problems(entry, facts) == []


def test_p95_ignores_one_outlier_in_twenty() -> None:
    facts = HttpFacts(url="http://x", latencies_ms=[10.0] * 19 + [900.0])
    assert facts.p95_ms == 10.0
    facts.latencies_ms.append(800.0)
    assert facts.p95_ms == 800.0


def test_connection_refused() -> None:
    port = refused_port()
    entry, facts = run(f"http://127.0.0.1:{port}/health")
    assert problems(entry, facts) == [
        f"connection refused by 127.0.0.1:{port} (target unreachable: is the service running?)"
    ]
    assert facts.status is None
    assert facts.latencies_ms == []


def test_excerpt_of_a_json_error_body(http_server: LocalHTTPServer) -> None:
    http_server.routes["/health"] = json_response(
        {"ok": False, "error": "db down", "error_type": "OSError"}, 500
    )
    entry, facts = run(f"{http_server.url}/health", expect={"json": {"ok": True}})
    assert problems(entry, facts) == ["status: expected 200, got 500", "json ok: expected true, got false"]
    assert json.loads(facts.excerpt()) == {"ok": False, "error": "db down", "error_type": "OSError"}
