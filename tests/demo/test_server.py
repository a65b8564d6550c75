"""The demo service's request metrics and log lines, read over its real socket as the demo's checks do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from opsverify.config.target import load_target
from opsverify.demo.cli import demo_environment
from opsverify.demo.data import DemoLayout, build
from opsverify.demo.server import DemoServer
from opsverify.kinds.base import ProbeContext
from opsverify.kinds.metrics.probe import probe
from opsverify.kinds.metrics.verdict import judge
from tests.conftest import REPO


@pytest.fixture
def layout(tmp_path: Path) -> DemoLayout:
    return build(tmp_path / "home")


def demo_metrics_problems(layout: DemoLayout, server: DemoServer) -> list[str]:
    """targets/demo.yaml's `metrics:service` rules (`metrics:service/error-rate`, ...), one scrape of `server`."""
    environment = demo_environment(layout, server.url)
    target = load_target(str(REPO / "targets" / "demo.yaml"), environ=environment)
    entry = target.model.metrics["service"]
    return [problem.text for problem in judge(entry, probe(entry, ProbeContext("demo"))).problems]


def test_metrics_scraped_right_after_start_already_count_a_request(layout: DemoLayout) -> None:
    # The demo's checks run concurrently: `metrics:service/*` may scrape before any other check's request.
    server = DemoServer(layout).start()
    try:
        assert demo_metrics_problems(layout, server) == []
        exposition = requests.get(f"{server.url}/metrics", timeout=5).text
    finally:
        server.stop()
    assert 'http_requests_total{path="/",status="200"} 1' in exposition
    assert "http_request_duration_seconds_count 1" in exposition


def test_health_probes_and_scrapes_are_not_counted_as_traffic_or_errors(layout: DemoLayout) -> None:
    server = DemoServer(layout, healthy=False).start()
    try:
        answers = [requests.get(f"{server.url}/healthz", timeout=5).status_code for _ in range(3)]
        assert demo_metrics_problems(layout, server) == []
        exposition = requests.get(f"{server.url}/metrics", timeout=5).text
    finally:
        server.stop()
    assert answers == [503, 503, 503]
    assert 'path="/healthz"' not in exposition
    assert 'path="/metrics"' not in exposition
    assert "http_5xx_errors_total 0" in exposition
    logged = [json.loads(line) for line in layout.log_file.read_text().splitlines()]
    probes = [(r["level"], r["message"]) for r in logged if r.get("component") == "http"]
    assert probes[:4] == [("INFO", "GET / 200")] + [("WARNING", "GET /healthz 503")] * 3
    assert "ERROR" not in {r["level"] for r in logged}
