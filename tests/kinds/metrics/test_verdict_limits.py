"""A scraped metric's `max` / `min` at their edges (the metrics kind judges with the prometheus kind's bounds):
both include the limit."""

from __future__ import annotations

import pytest

from opsverify.kinds.metrics.facts import MetricsFacts
from opsverify.kinds.metrics.model import MetricsCheck
from opsverify.kinds.metrics.verdict import judge
from opsverify.kinds.prometheus.facts import RuleResult, Series

URL = "http://app:8000/metrics"


def passes(bounds: dict[str, float], value: float) -> bool:
    check = MetricsCheck.model_validate({"url": URL, "rules": {"c": {"metric": "db_connections", **bounds}}})
    result = RuleResult("db_connections", [Series({"__name__": "db_connections"}, value)])
    facts = MetricsFacts(url=URL, status=200, body_bytes=10, elapsed_ms=1, results={"c": result})
    return judge(check, facts, "c").passed


@pytest.mark.parametrize(("value", "ok"), [(79.0, True), (80.0, True), (81.0, False)])
def test_max_is_at_most(value: float, ok: bool) -> None:
    assert passes({"max": 80}, value) is ok


@pytest.mark.parametrize(("value", "ok"), [(1.0, False), (2.0, True), (3.0, True)])
def test_min_is_at_least(value: float, ok: bool) -> None:
    assert passes({"min": 2}, value) is ok
