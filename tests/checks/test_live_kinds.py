"""End to end: `pytest checks --target FILE` against real servers for http, tls, postgres and redis."""

from __future__ import annotations

import re
from collections.abc import Callable

from tests.conftest import LocalHTTPServer, RunResult, json_response, refused_port
from tests.probes.conftest import Certificates, TLSServer
from tests.probes.test_http import READY, UNHEALTHY


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
    for test_id in ("test_http[http:api-health]", "test_postgres[postgres:main]", "test_redis[redis:cache]"):
        assert f"{test_id} PASSED" in result.output
    assert "tls:api-cert" not in result.output  # tls defaults to the daily tier, not smoke
    result = run_checks(f"target: e2e-pass\n{sections}", "-m", "daily", "-v")
    assert result.returncode == 0, result.output
    assert "test_tls[tls:api-cert] PASSED" in result.output
    assert "test_no_invalid_indexes[postgres:main] PASSED" in result.output  # the custom example
    assert "test_api_expects_the_database_revision PASSED" in result.output


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
        "test_http[http:api-health]",
        "test_tls[tls:old-cert]",
        "test_tls[tls:self-signed]",
        "test_postgres[postgres:main]",
        "test_redis[redis:cache]",
    ):
        assert re.search(rf"FAILED \S*checks/test_\w+\.py::{re.escape(test_id)}", output), test_id
    assert "Traceback" not in output
