"""checks/test_custom_example.py, the example of a user's own check: it runs where the target has what it
needs, fails with a clear message when the deployment is wrong, and stays out of the way otherwise."""

from __future__ import annotations

from collections.abc import Callable

from tests.conftest import LocalHTTPServer, RunResult, json_response
from tests.probes.test_http import READY


def test_skips_with_a_reason_on_a_target_without_the_entries(
    run_checks: Callable[..., RunResult], redis_url: str
) -> None:
    result = run_checks(f"target: bare\nredis:\n  cache: {{url: '{redis_url}'}}\n", "-rs", "-v")
    assert result.returncode == 0, result.output
    assert "test_no_invalid_indexes" not in result.output  # no postgres entries: no test at all
    assert "SKIPPED" in result.output
    assert (
        "target bare has no http entry 'api-health' and no postgres entry 'main' to cross-check "
        "(set HEALTH_ENTRY / DATABASE_ENTRY in checks/test_custom_example.py)"
    ) in result.output


def test_fails_clearly_when_the_api_and_database_disagree(
    run_checks: Callable[..., RunResult], http_server: LocalHTTPServer, pg_database: str
) -> None:
    http_server.routes["/healthz"] = json_response({**READY, "expected_revision": "0087"})
    target = f"""
target: drift
http:
  api-health: {{url: "{http_server.url}/healthz", expect: {{json: {{status: ready}}}}}}
postgres:
  main: {{url: "{pg_database}"}}
"""
    result = run_checks(target, "-k", "custom_example", "-v")
    assert result.returncode == 1, result.output
    assert "test_no_invalid_indexes[postgres:main] PASSED" in result.output
    assert (
        "the API expects revision '0087', the database is at '0086' (select version_num from "
        "alembic_version); run the migrations (`alembic upgrade head`) or roll the API back"
    ) in result.output
    assert "Traceback" not in result.output
