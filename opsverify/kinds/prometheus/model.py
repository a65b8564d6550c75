"""Config model of `prometheus:` entries: PromQL instant queries against a Prometheus server, with bounds.

`Bounds` (max / min / equals over every returned series) is shared with the `metrics:` kind.
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from opsverify.config.types import CheckEntry, Duration, StrictModel, TlsVerify
from opsverify.kinds.http.model import HttpAuth
from opsverify.units import limits


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
