"""The metrics verdict from constructed facts: each rule judged on its own against the entry's one scrape."""

from __future__ import annotations

from opsverify.kinds.metrics.facts import MetricsFacts
from opsverify.kinds.metrics.model import MetricsCheck
from opsverify.kinds.metrics.verdict import judge
from opsverify.kinds.prometheus.facts import RuleResult, Series
from opsverify.problem import Problem

URL = "http://app:8000/metrics"
RATIO = "sum(http_5xx_errors_total) / sum(http_requests_total)"
P95 = "histogram_quantile(0.95, http_request_duration_seconds_bucket)"

ENTRY = MetricsCheck.model_validate(
    {
        "url": URL,
        "rules": {
            "error-ratio": {"ratio": ["http_5xx_errors_total", "http_requests_total"], "max": 0.01},
            "p95-seconds": {"quantile": 0.95, "histogram": "http_request_duration_seconds", "max": 0.5},
            "connections": {"metric": "db_connections", "max": 80},
        },
    }
)


def scraped(**results: RuleResult) -> MetricsFacts:
    healthy = {
        "error-ratio": RuleResult(RATIO, [Series({}, 0.005)], note="5 / 1000"),
        "p95-seconds": RuleResult(P95, [Series({}, 0.2)]),
        "connections": RuleResult("db_connections", [Series({"__name__": "db_connections"}, 12)]),
    }
    return MetricsFacts(url=URL, status=200, body_bytes=2048, elapsed_ms=8, results=healthy | results)


def texts(problems: list[Problem]) -> list[str]:
    return [problem.text for problem in problems]


def test_every_rule_within_bounds_passes() -> None:
    observed = scraped()
    assert all(judge(ENTRY, observed, rule).passed for rule in ENTRY.rules)
    assert judge(ENTRY, observed).passed


def test_each_rule_is_its_own_verdict_with_its_own_evidence() -> None:
    observed = scraped(
        **{
            "error-ratio": RuleResult(RATIO, [Series({}, 0.03)], note="30 / 1000"),
            "p95-seconds": RuleResult(P95, [Series({}, 0.75)]),
        }
    )
    ratio = judge(ENTRY, observed, "error-ratio")
    assert texts(ratio.problems) == [f"rule error-ratio: expected <= 0.01, got 0.03 ({RATIO})"]
    assert ratio.evidence.splitlines() == [
        f"GET {URL} -> 200, 0 samples, 2048 bytes in 8 ms",
        f"error-ratio: {RATIO}  [30 / 1000]",
        "    {} = 0.03",
    ]
    p95 = judge(ENTRY, observed, "p95-seconds")
    assert texts(p95.problems) == [f"rule p95-seconds: expected <= 0.5, got 0.75 ({P95})"]
    assert "error-ratio" not in p95.evidence
    assert judge(ENTRY, observed, "connections").passed


def test_a_failed_scrape_fails_every_rule_with_its_reason_and_no_evidence() -> None:
    error = f"GET {URL} -> HTTP 404, expected 200 with a metrics exposition"
    observed = MetricsFacts(url=URL, status=404, error=error)
    for rule in ENTRY.rules:
        judgement = judge(ENTRY, observed, rule)
        assert judgement.problems == [Problem("", error)], rule
        assert judgement.evidence == ""
    assert texts(judge(ENTRY, observed).problems) == [error]


def test_a_missing_series_says_why_and_how_to_accept_it() -> None:
    missing = RuleResult(
        "db_connections", note="db_connections not in the exposition; did you mean db_conns?"
    )
    (problem,) = judge(ENTRY, scraped(connections=missing), "connections").problems
    assert problem.text == (
        "rule connections: no series for db_connections: db_connections not in the exposition; did you mean "
        "db_conns?; set `absent_ok: true` if an empty result is fine"
    )
    no_note = RuleResult("db_connections")
    (text,) = texts(judge(ENTRY, scraped(connections=no_note), "connections").problems)
    assert "no series for db_connections: the exposition has no such series" in text


def test_a_rule_that_could_not_be_evaluated_names_the_reason() -> None:
    broken = RuleResult(P95, error='http_request_duration_seconds_bucket has no le="+Inf" bucket')
    assert texts(judge(ENTRY, scraped(**{"p95-seconds": broken}), "p95-seconds").problems) == [
        'rule p95-seconds: http_request_duration_seconds_bucket has no le="+Inf" bucket'
    ]


def test_each_series_of_a_metric_is_checked() -> None:
    per_pool = RuleResult(
        "db_connections",
        [
            Series({"__name__": "db_connections", "pool": "a"}, 12),
            Series({"__name__": "db_connections", "pool": "b"}, 95),
        ],
    )
    (text,) = texts(judge(ENTRY, scraped(connections=per_pool), "connections").problems)
    assert text == 'rule connections: 1 of 2 series not <= 80 (db_connections): db_connections{pool="b"} = 95'
