"""End to end: every rule of a `metrics:` entry is a check of its own (`metrics:svc/<rule>`), scraped once.

A rule that keeps failing must not hide a second rule of the same entry starting to fail: the second one
is a new failure with its own notification state.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler

from tests.conftest import LocalHTTPServer, Response


def serve(values: dict[str, float]):
    def exposition(request: BaseHTTPRequestHandler) -> Response:
        body = "".join(f"# TYPE {name} gauge\n{name} {value}\n" for name, value in values.items())
        return 200, {"Content-Type": "text/plain; version=0.0.4"}, body.encode()

    return exposition


def target(url: str) -> str:
    return f"""\
target: shop
metrics:
  svc:
    url: '{url}/metrics'
    rules:
      queue-depth: {{metric: queue_depth, max: 100}}
      workers: {{metric: workers_busy, max: 8}}
notify:
  channels:
    ops-hook: {{webhook: {{url: '{url}/hook', retries: 0}}}}
  routes:
    - {{match: {{status: failed}}, to: [ops-hook]}}
"""


def test_a_second_rule_starting_to_fail_is_a_new_failure(http_server: LocalHTTPServer, run_checks) -> None:
    values = {"queue_depth": 250.0, "workers_busy": 2.0}
    http_server.routes["/metrics"] = serve(values)
    http_server.routes["/hook"] = (200, {}, b"{}")

    def failures() -> dict[str, bool]:
        (hook,) = [json.loads(r["body"]) for r in http_server.requests if r["path"] == "/hook"]
        return {failure["id"]: failure["new"] for failure in hook["failures"]}

    first = run_checks(target(http_server.url), "-m", "daily")
    assert first.returncode == 1, first.output
    assert "metrics:svc/queue-depth failed on target shop:" in first.output
    assert "rule queue-depth: expected <= 100, got 250 (queue_depth)" in first.output
    assert "metrics:svc/workers failed" not in first.output
    assert failures() == {"metrics:svc/queue-depth": True}
    assert len([r for r in http_server.requests if r["path"] == "/metrics"]) == 1  # one scrape, two checks

    values["workers_busy"] = 12.0
    http_server.requests.clear()
    second = run_checks(target(http_server.url), "-m", "daily")
    assert second.returncode == 1, second.output
    assert "rule workers: expected <= 8, got 12 (workers_busy)" in second.output
    assert failures() == {"metrics:svc/queue-depth": False, "metrics:svc/workers": True}
    summary = json.loads((second.reports / "summary.json").read_text())
    assert "metrics:svc/workers" in json.dumps(summary)
