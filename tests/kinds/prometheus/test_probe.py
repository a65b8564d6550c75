"""The prometheus probe and its verdict against a real Prometheus scraping a real /metrics endpoint."""

from __future__ import annotations

import json
import math
import re
import threading
import time
from pathlib import Path

import pytest
import requests
from pydantic import ValidationError

from opsverify.config.target import load_target
from opsverify.config.yamlsource import TargetError
from opsverify.kinds.base import ProbeContext
from opsverify.kinds.metrics.probe import evaluate as evaluate_metrics_rule
from opsverify.kinds.metrics.probe import parse_exposition
from opsverify.kinds.prometheus.model import PrometheusCheck
from opsverify.kinds.prometheus.probe import probe
from opsverify.kinds.prometheus.verdict import judge
from tests.conftest import LocalHTTPServer, json_response, refused_port
from tests.probes.observability_helpers import ALERT_RULES, EXPECTED_P95, LocalPrometheus, auth_proxy

pytest_plugins = ["tests.probes.observability_helpers"]

CTX = ProbeContext("test")
ERROR_RATIO = 'sum(http_requests_total{status=~"5.."}) / sum(http_requests_total)'


def check(url: str, rules: dict[str, dict[str, object]], **keys: object) -> PrometheusCheck:
    return PrometheusCheck.model_validate({"url": url, "rules": rules, **keys})


def run(entry: PrometheusCheck) -> list[str]:
    """The problems of every rule of `entry`, as the terminal shows them."""
    return [problem.text for problem in judge(entry, probe(entry, CTX)).problems]


def test_rules_within_bounds_pass_and_every_series_is_reported(prometheus: LocalPrometheus) -> None:
    entry = check(
        prometheus.url,
        {
            "error-rate": {"expr": ERROR_RATIO, "max": 0.05},
            "requests": {"expr": "http_requests_total", "min": 1},
            "connections": {"expr": "database_connections_active", "max": 80, "min": 1},
            "low-stock": {"expr": "inventory_low_stock_alerts", "equals": 0},
            "scalar": {"expr": "scalar(sum(http_5xx_errors_total))", "equals": 30},
        },
    )
    facts = probe(entry, CTX)
    assert judge(entry, facts).problems == []
    assert math.isclose(facts.results["error-rate"].series[0].value, 0.03)
    assert len(facts.results["requests"].series) == 2
    report = facts.report()
    assert 'http_requests_total{instance="127.0.0.1:' in report
    assert 'status="200"} = 970' in report
    assert 'status="500"} = 30' in report


def test_a_rule_over_its_max_names_the_value_and_the_bound(prometheus: LocalPrometheus) -> None:
    (problem,) = run(check(prometheus.url, {"error-rate": {"expr": ERROR_RATIO, "max": 0.01}}))
    assert problem.startswith("rule error-rate: expected <= 0.01, got 0.03")
    assert ERROR_RATIO in problem


def test_a_failure_names_only_the_offending_label_sets(prometheus: LocalPrometheus) -> None:
    (problem,) = run(check(prometheus.url, {"per-status": {"expr": "http_requests_total", "max": 100}}))
    assert "1 of 2 series not <= 100" in problem
    assert 'method="GET", status="200"} = 970' in problem
    assert 'status="500"' not in problem


def test_no_series_fails_with_that_reason_unless_absent_ok(prometheus: LocalPrometheus) -> None:
    (problem,) = run(check(prometheus.url, {"typo": {"expr": "http_request_total", "max": 1}}))
    assert "no series for http_request_total" in problem
    assert "absent_ok: true" in problem
    assert (
        run(check(prometheus.url, {"typo": {"expr": "http_request_total", "max": 1, "absent_ok": True}}))
        == []
    )


def test_alert_rules_fail_on_any_series_and_pass_on_none(prometheus: LocalPrometheus) -> None:
    rules = {
        "postgres-down": {"expr": 'up{job="postgres"} == 0', "alert": True},
        "app-down": {"expr": 'up{job="app"} == 0', "alert": True},
    }
    (problem,) = run(check(prometheus.url, rules))
    assert problem.startswith("rule postgres-down: alert condition")
    assert 'job="postgres"} = 0' in problem
    assert "expected none" in problem


def test_rejected_range_and_nan_queries_are_explained(prometheus: LocalPrometheus) -> None:
    rules = {
        "syntax": {"expr": "sum(http_requests_total", "max": 1},
        "range": {"expr": "up[1m]", "max": 1},
        "no-traffic": {"expr": "vector(0) / 0", "max": 1},
    }
    problems = dict(p.split(":", 1) for p in run(check(prometheus.url, rules)))
    assert "Prometheus rejected the query (bad_data)" in problems["rule syntax"]
    assert "fix `expr`" in problems["rule syntax"]
    assert "range vector" in problems["rule range"]
    assert "got NaN" in problems["rule no-traffic"]
    assert "0/0" in problems["rule no-traffic"]


def test_metrics_quantile_matches_prometheus_histogram_quantile(prometheus: LocalPrometheus) -> None:
    """Our bucket interpolation (metrics kind) gives what Prometheus' histogram_quantile gives."""
    from opsverify.kinds.metrics.model import MetricsRule
    from tests.probes.observability_helpers import METRICS_TOKEN

    exposition = requests.get(
        f"{prometheus.app.url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=5
    ).text
    samples = parse_exposition(exposition)
    for quantile in (0.5, 0.95, 0.99, 0.999):
        (series,) = prometheus.query(
            f"histogram_quantile({quantile}, sum by (le) (http_request_duration_seconds_bucket))"
        )
        expected = float(series["value"][1])  # type: ignore[index]
        rule = MetricsRule(quantile=quantile, histogram="http_request_duration_seconds", max=10)
        ours = evaluate_metrics_rule(rule, samples).series[0].value
        assert math.isclose(ours, expected, rel_tol=1e-9), (quantile, ours, expected)
    assert math.isclose(EXPECTED_P95, 0.25 + 0.25 * 5 / 6)


def test_an_unreachable_server_is_one_clear_error() -> None:
    port = refused_port()
    entry = check(f"http://127.0.0.1:{port}", {"a": {"expr": "up", "min": 1}, "b": {"expr": "up", "min": 1}})
    facts = probe(entry, CTX)
    assert facts.error is not None
    assert [problem.text for problem in judge(entry, facts).problems] == [facts.error]  # named once
    for rule in ("a", "b"):  # each rule's check fails with the server's error
        assert [problem.text for problem in judge(entry, facts, rule).problems] == [facts.error]
    assert f"connection refused by 127.0.0.1:{port}" in facts.error


def test_a_server_that_is_not_prometheus_is_named(http_server: LocalHTTPServer) -> None:
    http_server.routes["*"] = (200, {"Content-Type": "text/html"}, b"<html>Grafana</html>")
    (problem,) = run(check(http_server.url, {"a": {"expr": "up", "min": 1}}))
    assert "did not answer like the Prometheus HTTP API (HTTP 200, text/html)" in problem
    assert "base URL" in problem


def test_bearer_and_basic_auth_through_an_auth_proxy(prometheus: LocalPrometheus) -> None:
    rules = {"a": {"expr": 'up{job="app"}', "equals": 1}}
    bearer = LocalHTTPServer(routes={"*": auth_proxy(prometheus.url, bearer="prom-token-91")}).start()
    basic = LocalHTTPServer(routes={"*": auth_proxy(prometheus.url, basic=("ops", "s3cret-pw"))}).start()
    try:
        assert run(check(bearer.url, rules, auth={"bearer": "prom-token-91"})) == []
        assert (
            run(check(basic.url, rules, auth={"basic": {"username": "ops", "password": "s3cret-pw"}})) == []
        )
        (problem,) = run(check(bearer.url, rules, auth={"bearer": "wrong"}))
        assert problem.startswith(f"HTTP 401 from {bearer.url}/api/v1/query: the credentials were rejected")
        (problem,) = run(check(basic.url, rules))
        assert "check `auth:`" in problem
    finally:
        bearer.stop()
        basic.stop()


def test_a_slow_server_times_out(http_server: LocalHTTPServer) -> None:
    released = threading.Event()

    def slow(request):
        released.wait(30)  # answers only when the test is over (or after 30 s)
        return json_response({"status": "success", "data": {"resultType": "vector", "result": []}})

    http_server.routes["/api/v1/query"] = slow
    started = time.monotonic()
    try:
        (problem,) = run(check(http_server.url, {"a": {"expr": "up", "min": 1}}, timeout="300ms"))
        # the 0.3 s timeout and a generous margin for a loaded machine, far below the server's 30 s
        assert time.monotonic() - started < 0.3 + 10
    finally:
        released.set()
    assert "within 0.3s" in problem


def test_the_query_and_a_server_side_timeout_are_sent(http_server: LocalHTTPServer) -> None:
    http_server.routes["/prom/api/v1/query"] = json_response(
        {"status": "success", "data": {"resultType": "scalar", "result": [1, "+Inf"]}}
    )
    (problem,) = run(check(f"{http_server.url}/prom/", {"a": {"expr": 'up{job="x"}', "max": 5}}, timeout=7))
    assert "got +Inf" in problem
    sent = http_server.requests[0]["path"]
    assert sent.startswith("/prom/api/v1/query?query=up%7Bjob%3D%22x%22%7D")
    assert "timeout=7s" in sent


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"expr": "up"}, "give a bound (`max:`, `min:` or `equals:`), or `alert: true`"),
        ({"expr": "up == 0", "alert": True, "max": 1}, "remove max/min/equals"),
        ({"expr": "up", "min": 5, "max": 1}, "min (5) is greater than max (1)"),
        ({"expr": "up", "equals": 1, "max": 1}, "give `equals`, or `max` and/or `min`, not both"),
        ({"expr": "up", "maximum": 1}, "Extra inputs are not permitted"),
    ],
)
def test_invalid_rules_are_rejected_with_the_fix(rule: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check("http://prometheus:9090", {"r": rule})


def test_the_url_must_be_the_base_url() -> None:
    with pytest.raises(ValidationError, match="not an API path"):
        check("http://prometheus:9090/api/v1/query", {"r": {"expr": "up", "min": 1}})
    with pytest.raises(ValidationError, match="this entry checks nothing"):
        check("http://prometheus:9090", {})


def rules_file_check(url: str, folder: Path, **keys: object) -> PrometheusCheck:
    """An entry with `rules_file: alerts.yml`, loaded from a target file like any other."""
    (folder / "alerts.yml").write_text(ALERT_RULES)
    lines = "".join(f"    {key}: {json.dumps(value)}\n" for key, value in keys.items())
    (folder / "t.yaml").write_text(
        f"target: t\nprometheus:\n  alerts:\n    url: {url}\n    rules_file: alerts.yml\n{lines}"
    )
    return load_target(str(folder / "t.yaml"), folder, {}).section("prometheus")["alerts"]  # type: ignore[no-any-return]


def test_a_rules_file_gives_one_alert_check_per_alert(prometheus: LocalPrometheus, tmp_path: Path) -> None:
    entry = rules_file_check(prometheus.url, tmp_path)
    assert entry.rule_names() == ["PostgresDown", "AppDown", "HighErrorRate"]
    assert entry.skipped == [
        "recording rule job:http_requests:sum skipped (it records a series, it does not alert)"
    ]
    facts = probe(entry, CTX)
    assert judge(entry, facts, "AppDown").problems == []
    assert judge(entry, facts, "HighErrorRate").problems == []
    (problem,) = judge(entry, facts, "PostgresDown").problems
    assert problem.text.startswith('rule PostgresDown: critical alert condition up{job="postgres"} == 0')
    assert "(PostgreSQL is unreachable)" in problem.text
    assert "`for: 0s` is not waited for" in problem.text


def wait_for_firing(prometheus: LocalPrometheus) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        alerts = requests.get(f"{prometheus.url}/api/v1/alerts", timeout=5).json()["data"]["alerts"]
        if any(a["labels"]["alertname"] == "PostgresDown" and a["state"] == "firing" for a in alerts):
            return
        time.sleep(0.2)
    pytest.fail("PostgresDown did not fire within 20 s")


def test_firing_none_names_the_firing_alerts(prometheus: LocalPrometheus) -> None:
    wait_for_firing(prometheus)
    entry = PrometheusCheck.model_validate({"url": prometheus.url, "firing": "none"})
    assert entry.rule_names() == ["firing"]
    facts = probe(entry, CTX)
    (problem,) = judge(entry, facts, "firing").problems
    assert problem.text.startswith("alerts: expected none firing, got 1 firing: PostgresDown{")
    assert 'severity="critical"' in problem.text
    assert "PostgresDown" in judge(entry, facts, "firing").evidence


def test_firing_a_list_allows_those_alerts(prometheus: LocalPrometheus) -> None:
    wait_for_firing(prometheus)
    entry = PrometheusCheck.model_validate({"url": prometheus.url, "firing": ["PostgresDown"]})
    assert judge(entry, probe(entry, CTX), "firing").problems == []


def test_firing_on_a_server_that_is_not_prometheus(http_server: LocalHTTPServer) -> None:
    http_server.routes["*"] = (200, {"Content-Type": "text/html"}, b"<html>Grafana</html>")
    entry = PrometheusCheck.model_validate({"url": http_server.url, "firing": "none"})
    (problem,) = judge(entry, probe(entry, CTX), "firing").problems
    assert "did not answer like the Prometheus alerts API" in problem.text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("groups: [", "the rules file is not YAML"),
        ("scrape_configs: []", "is not a Prometheus rules file: expected `groups:`"),
        ("groups: [{name: a, rules: [{record: x, expr: up}]}]", "has no alerting rules"),
        ("groups: [{name: a, rules: [{alert: X}]}]", "groups[0].rules[0]: expected a mapping with"),
    ],
)
def test_a_bad_rules_file_is_named_with_its_key(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "alerts.yml").write_text(content)
    (tmp_path / "t.yaml").write_text(
        "target: t\nprometheus:\n  main:\n    url: http://p:9090\n    rules_file: alerts.yml\n"
    )
    with pytest.raises(TargetError, match=re.escape(message)) as raised:
        load_target(str(tmp_path / "t.yaml"), tmp_path, {})
    assert "t.yaml:5: prometheus.main.rules" in str(raised.value)
    with pytest.raises(ValidationError, match="this entry checks nothing"):
        PrometheusCheck.model_validate({"url": "http://p:9090"})
    with pytest.raises(ValidationError, match="clashes with the `firing:` check"):
        PrometheusCheck.model_validate(
            {"url": "http://p:9090", "firing": "none", "rules": {"firing": {"expr": "up", "min": 1}}}
        )
