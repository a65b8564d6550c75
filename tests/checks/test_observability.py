"""End to end: prometheus, metrics, logs and host checks run through `pytest checks --target FILE`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.probes.observability_helpers import METRICS_TOKEN, LocalPrometheus

pytest_plugins = ["tests.probes.observability_helpers"]

ERROR_RATIO = """'sum(http_requests_total{status=~"5.."}) / sum(http_requests_total)'"""


def write_logs(folder: Path, secret_line: str) -> None:
    """EmailOps-style JSON logs (current, rotated, gzipped) and an access log with failed logins."""
    import gzip

    now = datetime.now(UTC)
    stamp = lambda **ago: (now - timedelta(**ago)).isoformat()  # noqa: E731
    logs = folder / "logs"
    logs.mkdir()
    line = lambda level, message, **ago: json.dumps({"ts": stamp(**ago), "level": level, "message": message})  # noqa: E731
    (logs / "app.log").write_text(
        line("INFO", "request", minutes=3) + "\n" + line("ERROR", secret_line, minutes=2) + "\n"
    )
    (logs / "app.log.1").write_text(line("ERROR", "Failed to send email", hours=5) + "\n")
    (logs / "app.log.2.gz").write_bytes(gzip.compress((line("ERROR", "old", hours=40) + "\n").encode()))
    clf = (now - timedelta(hours=1)).strftime("%d/%b/%Y:%H:%M:%S +0000")
    (logs / "access.log").write_text(
        f'10.0.0.9 - - [{clf}] "POST /api/v1/auth/login" 401 authentication failed\n'
    )


def target(prometheus: LocalPrometheus, *, failing: bool) -> str:
    strict = failing
    return f"""
target: observability-{"bad" if failing else "ok"}
prometheus:
  main:
    url: {prometheus.url}
    rules:
      error-rate: {{expr: {ERROR_RATIO}, max: {0.01 if strict else 0.05}}}
      app-up: {{expr: 'up{{job="app"}}', equals: 1}}
      postgres-down: {{expr: 'up{{job="{"postgres" if strict else "app"}"}} == 0', alert: true}}
metrics:
  api:
    url: {prometheus.app.url}/metrics
    auth: {{bearer: "${{METRICS_TOKEN}}"}}
    rules:
      error-ratio: {{ratio: [http_5xx_errors_total, http_requests_total], max: 0.05}}
      p95-seconds: {{quantile: 0.95, histogram: http_request_duration_seconds, max: {0.25 if strict else 0.5}}}
logs:
  api-errors: {{path: "logs/app.log*", format: json, since: 24h, level: ERROR, max: {0 if strict else 5}}}
  failed-logins: {{path: "logs/access.log*", since: 24h, patterns: ["authentication failed"], max: 20}}
host:
  disk: [{{path: /, max_used_pct: {0.001 if strict else 100}}}]
  memory: {{max_used_pct: 100}}
  load: {{max_per_core: 1000}}
"""


def test_a_healthy_system_passes_every_observability_check(
    prometheus: LocalPrometheus, run_checks, tmp_path: Path
) -> None:
    write_logs(tmp_path, "Failed to send email")
    result = run_checks(
        target(prometheus, failing=False), "-m", "daily", "-v", env={"METRICS_TOKEN": METRICS_TOKEN}
    )
    assert result.returncode == 0, result.output
    for test_id in (
        "prometheus:main/error-rate",
        "prometheus:main/app-up",
        "prometheus:main/postgres-down",
        "metrics:api/error-ratio",
        "metrics:api/p95-seconds",
        "logs:api-errors",
        "logs:failed-logins",
        "host:disk:/",
        "host:memory",
        "host:load",
    ):
        assert f"::{test_id} PASSED" in result.output, test_id
    # Every kind defaults to the daily tier: none of them is part of the post-deploy smoke gate.
    smoke = run_checks(target(prometheus, failing=False), "-m", "smoke", env={"METRICS_TOKEN": METRICS_TOKEN})
    assert smoke.returncode == 5, smoke.output


def test_failures_name_the_offending_values_and_never_show_the_token(
    prometheus: LocalPrometheus, run_checks, tmp_path: Path
) -> None:
    write_logs(tmp_path, f"upstream said: Authorization: Bearer {METRICS_TOKEN}")
    result = run_checks(target(prometheus, failing=True), "-m", "daily", env={"METRICS_TOKEN": METRICS_TOKEN})
    output = result.output
    assert result.returncode == 1, output
    # every rule is a check of its own: the error rate and the alert fail separately, app-up still passes
    assert "prometheus:main/error-rate failed on target observability-bad:" in output
    assert "prometheus:main/postgres-down failed on target observability-bad:" in output
    assert "metrics:api/p95-seconds failed on target observability-bad:" in output
    assert "rule error-rate: expected <= 0.01, got 0.03" in output
    assert 'rule postgres-down: alert condition up{job="postgres"} == 0 is true for 1 series' in output
    assert "rule p95-seconds: expected <= 0.25, got 0.458333" in output
    assert "2 lines of level ERROR or above in the last 24h" in output
    assert "expected at most 0" in output
    assert "Failed to send email" in output  # the matching lines are quoted …
    assert "upstream said: Authorization: ***" in output  # … redacted
    assert "disk /: " in output
    assert "expected at most 0.001%" in output
    failed = (
        "prometheus:main/error-rate",
        "prometheus:main/postgres-down",
        "metrics:api/p95-seconds",
        "logs:api-errors",
        "host:disk:/",
    )
    for test_id in failed:
        assert f"FAILED {test_id} (normal): " in output, test_id
    # prometheus:main/app-up, metrics:api/error-ratio, logs:failed-logins, host:memory and host:load pass
    assert "5 failed, 5 passed" in output
    assert METRICS_TOKEN not in output
    files = result.files_text()
    assert METRICS_TOKEN not in files
    assert "upstream said: Authorization: ***" in files  # the reports hold the line, redacted


def test_bad_values_of_the_new_keys_are_usage_errors(run_checks) -> None:
    result = run_checks(
        """
target: observability-typos
prometheus:
  main: {url: "http://127.0.0.1:9090", rules: {up: {expr: up}}}
metrics:
  api: {url: "http://127.0.0.1:1/metrics", rules: {p95: {quantile: 95, histogram: h, max: 1}}}
logs:
  errors: {path: app.log, level: ERRORS}
host:
  disk: [{path: /, max_used_pct: 85, max_used: 90}]
"""
    )
    assert result.returncode == 4, result.output
    assert "prometheus.main.rules.up: give a bound" in result.output
    assert "metrics.api.rules.p95.quantile:" in result.output
    assert "logs.errors.level: unknown level 'ERRORS'" in result.output
    assert "host.disk[0].max_used: unknown key 'max_used'" in result.output
