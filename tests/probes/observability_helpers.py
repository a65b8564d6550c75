"""Test servers for the observability kinds: an exposition made by prometheus-client, served on a real
socket behind a bearer token, and a real Prometheus (Debian's `prometheus`) scraping it.

Loaded as a plugin (`pytest_plugins = ["tests.probes.observability_helpers"]`) by the test modules that need
it, so the session-scoped Prometheus starts once per test process. Those modules also import names from
here before pytest loads it as a plugin, hence PYTEST_DONT_REWRITE (it has no asserts to rewrite).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import requests
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics

from tests.conftest import LocalHTTPServer, Response, free_port

METRICS_TOKEN = "metrics-token-7f3a9c"
BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5)
# 90 fast, 6 medium and 4 slow requests: p50 = 0.0556, p95 = 0.4583, p99 = 0.875 (linear interpolation).
OBSERVATIONS = [0.05] * 90 + [0.3] * 6 + [0.7] * 4
EXPECTED_P95 = 0.25 + 0.25 * 5 / 6
# The alerting rules the test Prometheus evaluates (and the prometheus kind reads as a `rules_file:`):
# PostgresDown fires (its job is down), AppDown and HighErrorRate never do; one recording rule.
ALERT_RULES = """\
groups:
  - name: availability
    rules:
      - alert: PostgresDown
        expr: up{job="postgres"} == 0
        for: 0s
        labels: {severity: critical}
        annotations: {summary: "PostgreSQL is unreachable"}
      - alert: AppDown
        expr: up{job="app"} == 0
        for: 1m
        labels: {severity: critical}
        annotations: {summary: "The app is down"}
  - name: quality
    rules:
      - record: job:http_requests:sum
        expr: sum by (job) (http_requests_total)
      - alert: HighErrorRate
        expr: sum(http_requests_total{status=~"5.."}) / sum(http_requests_total) > 0.5
        for: 5m
        labels: {severity: warning}
        annotations: {summary: "More than half of the requests fail"}
"""


def app_registry(errors: int = 30, requests_ok: int = 970) -> CollectorRegistry:
    """What an instrumented app exposes: request counters by status, a latency histogram, gauges."""
    registry = CollectorRegistry()
    requests_total = Counter(
        "http_requests", "Requests by method and status", ["method", "status"], registry=registry
    )
    requests_total.labels("GET", "200").inc(requests_ok)
    requests_total.labels("GET", "500").inc(errors)
    Counter("http_5xx_errors", "5xx responses", registry=registry).inc(errors)
    latency = Histogram("http_request_duration_seconds", "Latency", buckets=BUCKETS, registry=registry)
    for value in OBSERVATIONS:
        latency.observe(value)
    Histogram("idle_duration_seconds", "A histogram with no observations", registry=registry)
    Counter("jobs_failed", "Failed jobs (none yet)", registry=registry)
    Counter("jobs_processed", "Processed jobs (none yet)", registry=registry)
    Gauge("database_connections_active", "Open connections", registry=registry).set(12)
    Gauge("inventory_low_stock_alerts", "Low stock alerts", registry=registry).set(0)
    return registry


def metrics_route(registry: CollectorRegistry, token: str | None = METRICS_TOKEN, openmetrics: bool = False):
    """A LocalHTTPServer route serving `registry` like an app's /metrics, behind a bearer token."""

    def serve(request: BaseHTTPRequestHandler) -> Response:
        if token is not None and request.headers.get("Authorization") != f"Bearer {token}":
            return 401, {"Content-Type": "text/plain"}, b"unauthorized"
        if openmetrics:
            body = generate_openmetrics(registry)
            return 200, {"Content-Type": "application/openmetrics-text; version=1.0.0; charset=utf-8"}, body
        return 200, {"Content-Type": "text/plain; version=0.0.4; charset=utf-8"}, generate_latest(registry)

    return serve


def prometheus_binary() -> str:
    """Debian's prometheus (installed by `make system-deps`); its absence fails the test, never skips it."""
    binary = os.environ.get("OPSVERIFY_TEST_PROMETHEUS") or shutil.which("prometheus")
    if binary is None:
        pytest.fail(
            "prometheus is not installed: run `make system-deps` (apt-get install prometheus) or point "
            "OPSVERIFY_TEST_PROMETHEUS at the binary. These tests need a real server and do not skip.",
            pytrace=False,
        )
    return binary


@dataclass
class LocalPrometheus:
    """A real Prometheus on 127.0.0.1 scraping the app every second (and a `postgres` job that is down)."""

    url: str
    app: LocalHTTPServer
    process: subprocess.Popen[bytes]
    log: Path

    def query(self, expr: str) -> list[dict[str, object]]:
        response = requests.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=5)
        response.raise_for_status()
        return list(response.json()["data"]["result"])

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def start_prometheus(folder: Path, app: LocalHTTPServer, down_port: int) -> LocalPrometheus:
    """Start Prometheus and wait until both jobs were scraped (about 6 s: its discovery runs every 5 s)."""
    config = folder / "prometheus.yml"
    (folder / "alerts.yml").write_text(ALERT_RULES)
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        f"rule_files: [{folder / 'alerts.yml'}]\n"
        "scrape_configs:\n"
        "  - job_name: app\n"
        f"    authorization: {{type: Bearer, credentials: {METRICS_TOKEN}}}\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{app.port}']}}]\n"
        "  - job_name: postgres\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{down_port}']}}]\n"
    )
    port = free_port()
    log = folder / "prometheus.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                prometheus_binary(),
                f"--config.file={config}",
                f"--storage.tsdb.path={folder / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--log.level=warn",
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    server = LocalPrometheus(f"http://127.0.0.1:{port}", app, process, log)
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if server.query('count(up{job="app"} == 1) + count(up{job="postgres"} == 0)') and server.query(
                'http_requests_total{status="500"}'
            ):
                return server
        except (requests.RequestException, KeyError, ValueError):
            pass
        time.sleep(0.2)
    server.stop()
    pytest.fail(f"Prometheus did not become ready within 40 s; its log:\n{log.read_text()[-2000:]}")


@pytest.fixture(scope="session")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPrometheus]:
    """A real Prometheus that has scraped the app (`app_registry()`, bearer-protected) at least once."""
    app = LocalHTTPServer(routes={"/metrics": metrics_route(app_registry())}).start()
    server = start_prometheus(tmp_path_factory.mktemp("prometheus"), app, free_port())
    yield server
    server.stop()
    app.stop()


def auth_proxy(upstream: str, *, bearer: str | None = None, basic: tuple[str, str] | None = None):
    """A LocalHTTPServer route that checks credentials and forwards to `upstream` (an auth proxy)."""
    import base64

    def forward(request: BaseHTTPRequestHandler) -> Response:
        header = request.headers.get("Authorization", "")
        allowed = (bearer is not None and header == f"Bearer {bearer}") or (
            basic is not None and header == "Basic " + base64.b64encode(":".join(basic).encode()).decode()
        )
        if not allowed:
            return 401, {"Content-Type": "text/plain", "WWW-Authenticate": "Basic"}, b"unauthorized"
        answer = requests.get(upstream + request.path, timeout=5)
        return answer.status_code, {"Content-Type": answer.headers["content-type"]}, answer.content

    return forward
