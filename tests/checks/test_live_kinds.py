"""End to end: `pytest --target FILE` against real servers for http, tls, postgres and redis."""

from __future__ import annotations

from collections.abc import Callable

from tests.conftest import LocalHTTPServer, RunResult, json_response, refused_port
from tests.kinds.http.test_probe import READY, UNHEALTHY
from tests.probes.conftest import Certificates, TLSServer


def passing_sections(http: LocalHTTPServer, tls: TLSServer, certs: Certificates, pg: str, redis: str) -> str:
    return f"""
http:
  api-health:
    url: {http.url}/healthz
    samples: 3
    expect:
      json: {{status: ready, db_connected: true}}
      conditions: ["$.current_revision == $.expected_revision"]
      max_latency_ms: 2000
tls:
  api-cert: {{host: 127.0.0.1, port: {tls.port}, verify: {certs.ca_file}, min_days_left: 30}}
postgres:
  main:
    url: {pg}
    expect_revision: {{sql: "select version_num from alembic_version", equals: "0086"}}
    max_connections_pct: 100
    max_query_seconds: 600
    queries:
      pending-jobs: {{sql: "select count(*) from jobs where status = 'pending'", max: 100}}
redis:
  cache: {{url: "{redis}", max_memory_pct: 100}}
"""


def test_passing_smoke_gate_exits_0(
    run_checks: Callable[..., RunResult],
    http_server: LocalHTTPServer,
    tls_server: dict[str, TLSServer],
    certificates: Certificates,
    pg_database: str,
    redis_url: str,
) -> None:
    http_server.routes["/healthz"] = json_response(READY)
    sections = passing_sections(http_server, tls_server["valid"], certificates, pg_database, redis_url)
    result = run_checks(f"target: e2e-pass\n{sections}", "-m", "smoke", "-v")
    assert result.returncode == 0, result.output
    for test_id in ("http:api-health", "postgres:main", "redis:cache"):
        assert f"target.yaml::{test_id} PASSED" in result.output
    assert "tls:api-cert" not in result.output  # tls defaults to the daily tier, not smoke
    result = run_checks(f"target: e2e-pass\n{sections}", "-m", "daily", "-v")
    assert result.returncode == 0, result.output
    assert "target.yaml::tls:api-cert PASSED" in result.output


def test_failing_checks_explain_expected_and_actual(
    run_checks: Callable[..., RunResult],
    http_server: LocalHTTPServer,
    tls_server: dict[str, TLSServer],
    certificates: Certificates,
    pg_database: str,
) -> None:
    http_server.routes["/healthz"] = json_response(UNHEALTHY, status=503)
    down = refused_port()
    target = f"""
target: e2e-fail
http:
  api-health:
    url: {http_server.url}/healthz
    expect:
      json: {{status: ready}}
      conditions: ["$.current_revision == $.expected_revision"]
tls:
  old-cert: {{host: 127.0.0.1, port: {tls_server["expiring"].port}, verify: {certificates.ca_file}}}
  self-signed: {{host: 127.0.0.1, port: {tls_server["self-signed"].port}, verify: {certificates.ca_file}}}
postgres:
  main:
    url: {pg_database}
    expect_revision: {{sql: "select version_num from alembic_version", equals: "0087"}}
redis:
  cache: {{url: "redis://127.0.0.1:{down}/0"}}
"""
    result = run_checks(target, "-m", "smoke or daily")
    assert result.returncode == 1, result.output
    output = result.output
    assert "http:api-health failed on target e2e-fail:" in output
    assert "  - status: expected 200, got 503" in output
    assert '  - json status: expected "ready", got "unhealthy"' in output
    assert '$.current_revision = "0085", $.expected_revision = "0086"' in output
    assert f"GET {http_server.url}/healthz -> 503 in " in output
    assert '"error": "Database connection failed"' in output  # the body excerpt
    assert "tls:old-cert failed on target e2e-fail:" in output
    assert "expected at least 30 days left" in output
    assert "tls:self-signed failed" in output
    assert "(the certificate is self-signed)" in output
    assert 'revision: expected "0087", got "0086" (select version_num from alembic_version)' in output
    assert f"connection refused by 127.0.0.1:{down}/0 (target unreachable" in output
    for test_id in (
        "http:api-health",
        "tls:old-cert",
        "tls:self-signed",
        "postgres:main",
        "redis:cache",
    ):
        assert f"FAILED target.yaml::{test_id} - " in output, test_id
    assert "Traceback" not in output
