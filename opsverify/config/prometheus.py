"""Config model of `prometheus:` entries: PromQL instant queries against a Prometheus server, with bounds.

`Bounds` (max / min / equals over every returned series) is shared with the `metrics:` kind.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from pydantic import Field, field_validator, model_validator

from opsverify.config.http import HttpAuth
from opsverify.config.types import CheckEntry, Duration, StrictModel, TlsVerify, limits

if TYPE_CHECKING:
    from opsverify.config.metrics import MetricsRule
    from opsverify.probes.prometheus import PrometheusFacts, RuleResult, Series

MAX_LISTED_SERIES = 10  # offending series named in one message; the rest are counted


def format_number(value: float) -> str:
    """A measured value as operators read it: 0.0123, 97, 1.5e+09, NaN, +Inf."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return f"{value:.6g}"


class Bounds(StrictModel):
    """`max`, `min` and/or `equals` on a number; every series a rule returns must be within them."""

    max: float | None = None
    min: float | None = None
    equals: float | None = None
    absent_ok: bool = Field(default=False, description="an empty result (no series) passes")

    @model_validator(mode="after")
    def _consistent_bounds(self) -> Bounds:
        if self.equals is not None and (self.max is not None or self.min is not None):
            raise ValueError("give `equals`, or `max` and/or `min`, not both")
        if self.max is not None and self.min is not None and self.min > self.max:
            raise ValueError(f"min ({self.min:g}) is greater than max ({self.max:g}); no value can pass")
        return self

    def has_bounds(self) -> bool:
        return self.max is not None or self.min is not None or self.equals is not None

    def describe(self) -> str:
        """The bounds as a phrase: `<= 0.01`, `>= 15`, `between 1 and 5`, `== 0`."""
        if self.equals is not None:
            return f"== {self.equals:g}"
        if self.max is not None and self.min is not None:
            return f"between {self.min:g} and {self.max:g}"
        if self.max is not None:
            return f"<= {self.max:g}"
        return f">= {self.min:g}" if self.min is not None else "any value"

    def threshold(self, rule: str) -> str:
        """`error-rate ≤ 0.01` (`, absent ok` when an empty result passes), for `validate`."""
        bounds = limits(at_most=self.max, at_least=self.min, equals=self.equals)
        return f"{rule} {bounds}" + (" (absent ok)" if self.absent_ok else "")

    def holds(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if self.equals is not None:
            return value == self.equals
        return (self.max is None or value <= self.max) and (self.min is None or value >= self.min)

    def series_mismatches(self, rule: str, result: RuleResult, absent_hint: str) -> list[str]:
        """Problems with one rule's result: not evaluated, no series, or series out of bounds (named)."""
        if result.error:
            return [f"rule {rule}: {result.error}"]
        if not result.series:
            if self.absent_ok:
                return []
            return [
                f"rule {rule}: no series for {result.expr}: {result.note or absent_hint}; "
                "set `absent_ok: true` if an empty result is fine"
            ]
        offending = [series for series in result.series if not self.holds(series.value)]
        if not offending:
            return []
        nan = " (NaN comes from 0/0, e.g. no traffic in the window)" if _any_nan(offending) else ""
        if len(result.series) == 1:
            only = result.series[0]
            where = f" for {only.label_text()}" if set(only.labels) - {"__name__"} else ""
            return [
                f"rule {rule}: expected {self.describe()}, got {format_number(only.value)}{where}{nan} "
                f"({result.expr})"
            ]
        return [
            f"rule {rule}: {len(offending)} of {len(result.series)} series not {self.describe()}{nan} "
            f"({result.expr}): {list_series(offending)}"
        ]


def _any_nan(series: list[Series]) -> bool:
    return any(math.isnan(s.value) for s in series)


def list_series(series: list[Series]) -> str:
    """`a{x="1"} = 0.5; a{x="2"} = 0.7 … and 3 more` for messages."""
    shown = "; ".join(f"{s.label_text()} = {format_number(s.value)}" for s in series[:MAX_LISTED_SERIES])
    more = len(series) - MAX_LISTED_SERIES
    return shown + (f" … and {more} more" if more > 0 else "")


def rule_mismatches(
    rules: Mapping[str, PrometheusRule | MetricsRule],
    error: str | None,
    results: Mapping[str, RuleResult],
) -> list[str]:
    """The problems of every rule that produced a result, or the probe's error (prometheus and metrics)."""
    if error:
        return [error]
    problems: list[str] = []
    for name, rule in rules.items():
        result = results.get(name)
        if result is not None:
            problems.extend(rule.mismatches(name, result))
    return problems


class PrometheusRule(Bounds):
    """One PromQL instant query and what its result must be.

    With `alert: true` the expression is an alert condition (as in a Prometheus alerting rule, e.g.
    `up{job="postgres"} == 0`): the rule fails when it returns any series.
    """

    expr: str = Field(min_length=1, description="PromQL, evaluated as an instant query at the current time")
    alert: bool = Field(default=False, description="fail when the query returns any series")
    description: str | None = None

    @model_validator(mode="after")
    def _bounds_or_alert(self) -> PrometheusRule:
        if self.alert and self.has_bounds():
            raise ValueError("an `alert: true` rule fails on any returned series; remove max/min/equals")
        if not self.alert and not self.has_bounds():
            raise ValueError(
                "give a bound (`max:`, `min:` or `equals:`), or `alert: true` when `expr` is an alert "
                "condition that must return no series"
            )
        return self

    def threshold(self, rule: str) -> str:
        return f"{rule}: no series" if self.alert else super().threshold(rule)

    def mismatches(self, rule: str, result: RuleResult) -> list[str]:
        if not self.alert:
            return self.series_mismatches(
                rule, result, "the metric is absent: not scraped, renamed, or a typo in `expr`"
            )
        if result.error:
            return [f"rule {rule}: {result.error}"]
        if not result.series:
            return []
        return [
            f"rule {rule}: alert condition {result.expr} is true for {len(result.series)} series "
            f"(expected none): {list_series(result.series)}"
        ]


class PrometheusCheck(CheckEntry):
    """A Prometheus server (`url` is its base URL) and the rules to evaluate there."""

    url: str
    auth: HttpAuth | None = None
    headers: dict[str, str] = Field(default_factory=dict, description="extra request headers")
    timeout: Duration = Field(default=10.0, gt=0, description="per query, sent to Prometheus too")
    verify: TlsVerify = Field(default=True, description="verify TLS: true, false, or a CA bundle path")
    rules: dict[str, PrometheusRule] = Field(min_length=1)

    @field_validator("url")
    @classmethod
    def _url_scheme(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"expected an http:// or https:// URL of a Prometheus server, got {value!r}")
        if "/api/v1" in value:
            raise ValueError(
                f"give the Prometheus base URL (like http://prometheus:9090), not an API path: {value!r}"
            )
        return value.rstrip("/")

    def thresholds(self) -> list[str]:
        return [rule.threshold(name) for name, rule in self.rules.items()]

    def mismatches(self, facts: PrometheusFacts) -> list[str]:
        """Every rule whose result is missing, rejected or out of bounds (empty when the check passes)."""
        return rule_mismatches(self.rules, facts.error, facts.results)
