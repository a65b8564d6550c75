"""The http probe's side of the conversation: auth, method and body, retries, wait-until-ready, TLS verify."""

from __future__ import annotations

import base64
import json
import re
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from opsverify.kinds.base import ProbeContext
from opsverify.kinds.http.facts import HttpFacts
from opsverify.kinds.http.model import HttpCheck
from opsverify.kinds.http.probe import probe
from opsverify.kinds.http.verdict import judge
from tests.conftest import LocalHTTPServer, Response, json_response
from tests.probes.conftest import Certificates, TLSServer

OK = json_response({"ok": True, "env": "production", "log_level": "INFO", "workers": 1})  # EmailOps
FAILING = json_response({"ok": False, "error": "smtp unreachable", "error_type": "ConnectionError"}, 503)


def run(url: str, base_dir: Path | None = None, **keys: Any) -> tuple[HttpCheck, HttpFacts]:
    entry = HttpCheck.model_validate({"url": url, "timeout": 2, **keys})
    return entry, probe(entry, ProbeContext("test", base_dir or Path.cwd()))


def problems(entry: HttpCheck, facts: HttpFacts) -> list[str]:
    """The verdict's problems, one line each as the terminal shows them."""
    return [problem.text for problem in judge(entry, facts).problems]


def requires_authorization(expected: str) -> Any:
    def handler(request: BaseHTTPRequestHandler) -> Response:
        if request.headers.get("Authorization") != expected:
            return json_response({"detail": "Not authenticated"}, 401)
        return OK

    return handler


def after(seconds: float, then: Response, before: Response) -> Any:
    """A server that is unhealthy for `seconds` after the first request, then healthy (a deploy)."""
    started: list[float] = []

    def handler(request: BaseHTTPRequestHandler) -> Response:
        started.append(time.monotonic()) if not started else None
        return then if time.monotonic() - started[0] >= seconds else before

    return handler


def test_bearer_token(http_server: LocalHTTPServer) -> None:
    http_server.routes["/metrics"] = requires_authorization("Bearer tok-123")
    entry, facts = run(f"{http_server.url}/metrics", auth={"bearer": "tok-123"})
    assert problems(entry, facts) == []
    entry, facts = run(f"{http_server.url}/metrics", auth={"bearer": "wrong"})
    assert problems(entry, facts) == ["status: expected 200, got 401"]


def test_basic_auth(http_server: LocalHTTPServer) -> None:
    expected = "Basic " + base64.b64encode(b"ops:pa55").decode()
    http_server.routes["/admin"] = requires_authorization(expected)
    entry, facts = run(f"{http_server.url}/admin", auth={"basic": {"username": "ops", "password": "pa55"}})
    assert problems(entry, facts) == []
    assert http_server.requests[-1]["headers"]["Authorization"] == expected


def test_method_headers_and_bodies(http_server: LocalHTTPServer) -> None:
    http_server.routes["/v1/check"] = OK
    entry, facts = run(
        f"{http_server.url}/v1/check?dry_run=1",
        method="POST",
        json_body={"probe": "smoke"},
        headers={"X-Request-Source": "opsverify"},
    )
    assert problems(entry, facts) == []
    sent = http_server.requests[-1]
    assert (sent["method"], sent["path"]) == ("POST", "/v1/check?dry_run=1")
    assert json.loads(sent["body"]) == {"probe": "smoke"}
    assert sent["headers"]["X-Request-Source"] == "opsverify"
    assert sent["headers"]["User-Agent"].startswith("opsverify")
    run(f"{http_server.url}/v1/check", method="PUT", body="raw text")
    assert (http_server.requests[-1]["method"], http_server.requests[-1]["body"]) == ("PUT", b"raw text")
    entry, facts = run(f"{http_server.url}/v1/check", method="HEAD")
    assert problems(entry, facts) == []
    assert facts.text == ""


def test_retries_until_success(http_server: LocalHTTPServer) -> None:
    answers = [FAILING, FAILING, OK]
    http_server.routes["/health"] = lambda request: answers.pop(0) if len(answers) > 1 else answers[0]
    entry, facts = run(f"{http_server.url}/health", retries=1, retry_delay=0.01)
    assert facts.attempts == 2
    assert problems(entry, facts) == ["status: expected 200, got 503"]
    entry, facts = run(f"{http_server.url}/health", retries=2, retry_delay=0.01)
    assert facts.attempts == 1
    assert problems(entry, facts) == []


def test_wait_until_ready_passes_once_the_service_is_up(http_server: LocalHTTPServer) -> None:
    http_server.routes["/health"] = after(1.5, OK, FAILING)
    expect = {"json": {"ok": True}}
    started = time.monotonic()
    entry, facts = run(f"{http_server.url}/health", wait_until_ready=60, poll_interval=0.2, expect=expect)
    assert problems(entry, facts) == []
    # Not before the service is up, and long before the 60 s deadline (a generous margin for a loaded machine).
    assert 1.4 < facts.waited_s < 30
    assert time.monotonic() - started < 30
    assert len(http_server.requests) >= 5
    wait, sample, body = facts.phases()
    assert (wait.name, wait.ok, wait.detail, wait.seconds) == (
        "wait until ready",
        True,
        "ready",
        facts.waited_s,
    )
    assert (sample.name, sample.ok, sample.detail) == (f"GET {http_server.url}/health", True, "HTTP 200")
    assert body.name == "read the body"


def test_wait_until_ready_gives_up_at_the_deadline(http_server: LocalHTTPServer) -> None:
    http_server.routes["/health"] = FAILING
    started = time.monotonic()
    entry, facts = run(f"{http_server.url}/health", wait_until_ready=1, poll_interval=0.2)
    assert 0.8 < time.monotonic() - started < 1 + 10  # the deadline is honoured (a margin for load)
    assert problems(entry, facts) == ["status: expected 200, got 503"]
    assert facts.waited_s >= 0.8
    assert "smtp unreachable" in facts.excerpt()
    wait, sample, _ = facts.phases()
    assert (wait.ok, wait.detail) == (False, "not ready by the deadline")
    assert (sample.ok, sample.detail) == (True, "HTTP 503")  # the probe got an answer; verify judges it


def test_wait_until_ready_reports_an_unreachable_service() -> None:
    from tests.conftest import refused_port

    entry, facts = run(f"http://127.0.0.1:{refused_port()}/", wait_until_ready=0.5, poll_interval=0.2)
    (problem,) = problems(entry, facts)
    assert problem.startswith("connection refused by 127.0.0.1:")
    waited = re.search(r"\(still failing after waiting ([\d.]+)(ms|s) for readiness\)$", problem)
    assert waited, problem
    seconds = float(waited[1]) / (1000 if waited[2] == "ms" else 1)
    # it waited for the 0.5 s deadline (the last poll starts before it), and gave up: a margin for load
    assert 0.3 <= seconds < 0.5 + 10, problem
    wait, request = facts.phases()
    assert (wait.name, wait.ok) == ("wait until ready", False)
    assert (request.ok, request.detail) == (False, problem)


def test_tls_verification_is_on_by_default(
    tls_server: dict[str, TLSServer], certificates: Certificates
) -> None:
    url = f"https://127.0.0.1:{tls_server['valid'].port}/healthz"
    entry, facts = run(url)
    (problem,) = problems(entry, facts)
    assert problem.startswith(
        f"connection: TLS error talking to 127.0.0.1:{tls_server['valid'].port}: certificate verify failed"
    )
    assert "`verify: false`" in problem


def test_tls_verify_false_and_ca_path(tls_server: dict[str, TLSServer], certificates: Certificates) -> None:
    url = f"https://127.0.0.1:{tls_server['self-signed'].port}/healthz"
    entry, facts = run(url, verify=False, expect={"json": {"ok": True}})
    assert problems(entry, facts) == []
    url = f"https://127.0.0.1:{tls_server['valid'].port}/healthz"
    entry, facts = run(url, base_dir=certificates.folder, verify="ca.pem", expect={"json": {"ok": True}})
    assert problems(entry, facts) == []
    url = f"https://127.0.0.1:{tls_server['wrong-host'].port}/healthz"
    entry, facts = run(url, base_dir=certificates.folder, verify="ca.pem")
    assert problems(entry, facts)[0].startswith("connection: TLS error talking to 127.0.0.1")
