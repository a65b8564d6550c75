"""A rule's `max`, `min` and `equals` at their edges: `max` and `min` include the limit, `equals` holds only at
the value; NaN meets no bound. Each series of a result is judged; one outside fails the rule. Ten offending
series are named, the eleventh on only counted."""

from __future__ import annotations

import math

import pytest

from opsverify.kinds.prometheus.facts import PrometheusFacts, RuleResult, Series
from opsverify.kinds.prometheus.model import PrometheusCheck
from opsverify.kinds.prometheus.verdict import judge

URL = "http://prometheus:9090"


def passes(bounds: dict[str, float], *values: float) -> bool:
    check = PrometheusCheck.model_validate({"url": URL, "rules": {"r": {"expr": "x", **bounds}}})
    series = [Series({"instance": str(i)}, value) for i, value in enumerate(values)]
    facts = PrometheusFacts(url=URL, results={"r": RuleResult("x", series)}, elapsed_ms=1)
    return judge(check, facts, "r").passed


@pytest.mark.parametrize(("value", "ok"), [(0.009, True), (0.01, True), (0.011, False)])
def test_max_is_at_most(value: float, ok: bool) -> None:
    assert passes({"max": 0.01}, value) is ok


@pytest.mark.parametrize(("value", "ok"), [(14.0, False), (15.0, True), (16.0, True)])
def test_min_is_at_least(value: float, ok: bool) -> None:
    assert passes({"min": 15}, value) is ok


@pytest.mark.parametrize(("value", "ok"), [(0.0, False), (1.0, True), (5.0, True), (6.0, False)])
def test_between_includes_both_ends(value: float, ok: bool) -> None:
    assert passes({"min": 1, "max": 5}, value) is ok


@pytest.mark.parametrize(("value", "ok"), [(-1.0, False), (0.0, True), (1.0, False)])
def test_equals_holds_only_at_the_value(value: float, ok: bool) -> None:
    assert passes({"equals": 0}, value) is ok


@pytest.mark.parametrize("bounds", [{"max": 1}, {"min": 0}, {"equals": 0}])
def test_nan_meets_no_bound(bounds: dict[str, float]) -> None:
    assert passes(bounds, math.nan) is False


def test_one_series_outside_fails_the_rule() -> None:
    assert passes({"max": 4}, 4.0, 3.0) is True
    assert passes({"max": 4}, 4.0, 4.5) is False


@pytest.mark.parametrize(
    ("offending", "more"), [(2, ""), (10, ""), (11, " … and 1 more"), (12, " … and 2 more")]
)
def test_ten_offending_series_are_named_and_the_rest_counted(offending: int, more: str) -> None:
    check = PrometheusCheck.model_validate({"url": URL, "rules": {"r": {"expr": "x", "max": 4}}})
    series = [Series({"instance": f"i{i:02}"}, 5.0) for i in range(offending)]
    facts = PrometheusFacts(url=URL, results={"r": RuleResult("x", series)}, elapsed_ms=1)
    (problem,) = judge(check, facts, "r").problems
    named = "; ".join(f'{{instance="i{i:02}"}} = 5' for i in range(min(offending, 10)))
    assert problem.found == f"{offending} of {offending} series not <= 4 (x): {named}{more}"
