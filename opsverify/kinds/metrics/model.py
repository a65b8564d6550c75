"""Config model of `metrics:` entries: assertions on a scraped /metrics exposition.

A rule is one of: a metric's value (`metric`), a ratio of two summed counters (`ratio`), or a histogram
quantile (`quantile` + `histogram`), each with max / min / equals. Metric names may carry a PromQL-style
label selector: `http_requests_total{status=~"5..", method!="OPTIONS"}`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import Field, field_validator, model_validator

from opsverify.config.types import CheckEntry, Duration, TlsVerify
from opsverify.kinds.http.model import HttpAuth
from opsverify.kinds.prometheus.model import Bounds

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_SELECTOR = re.compile(rf"^\s*(?P<name>{_NAME})\s*(?:\{{(?P<matchers>.*)\}})?\s*$", re.DOTALL)
_MATCHER = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)')


@dataclass(frozen=True)
class LabelMatcher:
    label: str
    operator: str  # =, !=, =~, !~ (regexes are anchored, as in PromQL)
    value: str

    def matches(self, labels: dict[str, str]) -> bool:
        actual = labels.get(self.label, "")
        if self.operator == "=":
            return actual == self.value
        if self.operator == "!=":
            return actual != self.value
        found = re.fullmatch(self.value, actual) is not None
        return found if self.operator == "=~" else not found


@dataclass(frozen=True)
class Selector:
    """A sample name with label matchers, e.g. `http_requests_total{status=~"5.."}`."""

    name: str
    matchers: tuple[LabelMatcher, ...] = ()

    def matches(self, name: str, labels: dict[str, str]) -> bool:
        return name == self.name and all(m.matches(labels) for m in self.matchers)

    def __str__(self) -> str:
        inner = ", ".join(f'{m.label}{m.operator}"{m.value}"' for m in self.matchers)
        return f"{self.name}{{{inner}}}" if inner else self.name


def parse_selector(text: str, extra_labels: dict[str, str] | None = None) -> Selector:
    """`name{label="v", other=~"re"}` -> Selector; ValueError names what is wrong."""
    match = _SELECTOR.match(text)
    if not match:
        raise ValueError(
            f'expected a metric name, optionally with labels like name{{status="500"}}, got {text!r}'
        )
    matchers: list[LabelMatcher] = []
    rest = (match["matchers"] or "").strip()
    position = 0
    while position < len(rest):
        part = _MATCHER.match(rest, position)
        if not part or part.end() == position:
            raise ValueError(
                f"cannot read the label matchers of {text!r} at {rest[position:]!r}; "
                'write them like {status="500", path=~"/api/.*"}'
            )
        label, operator, value = part.groups()
        value = value.replace('\\"', '"').replace("\\\\", "\\")
        if operator in ("=~", "!~"):
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {value!r} in {text!r}: {exc}") from None
        matchers.append(LabelMatcher(label, operator, value))
        position = part.end()
    matchers += [LabelMatcher(k, "=", v) for k, v in (extra_labels or {}).items()]
    return Selector(match["name"], tuple(matchers))


class MetricsRule(Bounds):
    """One assertion on the exposition: a value, a counter ratio, or a histogram quantile."""

    metric: str | None = Field(default=None, description='sample name, optionally with {label="v"}')
    labels: dict[str, str] = Field(default_factory=dict, description="exact label values (added to metric)")
    sum: bool = Field(default=False, description="add up every matching series instead of checking each")
    ratio: list[str] | None = Field(default=None, description="[numerator, denominator], each summed")
    quantile: float | None = Field(default=None, gt=0, lt=1)
    histogram: str | None = Field(default=None, description="histogram name (its _bucket series are read)")
    description: str | None = None

    @field_validator("metric", "histogram")
    @classmethod
    def _selector_parses(cls, value: str | None) -> str | None:
        if value is not None:
            parse_selector(value)
        return value

    @field_validator("ratio")
    @classmethod
    def _ratio_pair(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            if len(value) != 2:
                raise ValueError(f"expected [numerator, denominator], two metric names, got {value!r}")
            for text in value:
                parse_selector(text)
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> MetricsRule:
        given = [
            key
            for key, present in (
                ("metric", self.metric is not None),
                ("ratio", self.ratio is not None),
                ("histogram", self.histogram is not None or self.quantile is not None),
            )
            if present
        ]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of `metric: NAME`, `ratio: [NUMERATOR, DENOMINATOR]` or "
                f"`quantile: 0.95` with `histogram: NAME` (got {', '.join(given) or 'none'})"
            )
        if (self.quantile is None) != (self.histogram is None):
            raise ValueError("a quantile rule needs both `quantile: 0.95` and `histogram: NAME`")
        if self.labels and self.metric is None:
            raise ValueError('`labels:` applies to `metric:`; put labels into the names, like name{a="b"}')
        if self.sum and self.metric is None:
            raise ValueError("`sum:` applies to `metric:` (ratios are always summed)")
        if not self.has_bounds():
            raise ValueError("give a bound: `max:`, `min:` or `equals:`")
        return self

    def selectors(self) -> list[Selector]:
        """The selectors this rule reads: [metric] | [numerator, denominator] | [histogram]."""
        if self.metric is not None:
            return [parse_selector(self.metric, self.labels)]
        if self.ratio is not None:
            return [parse_selector(text) for text in self.ratio]
        return [parse_selector(self.histogram or "")]


class MetricsCheck(CheckEntry):
    """A /metrics endpoint (Prometheus text format) and the rules its values must meet."""

    url: str
    auth: HttpAuth | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    timeout: Duration = Field(default=10.0, gt=0)
    verify: TlsVerify = Field(default=True, description="verify TLS: true, false, or a CA bundle path")
    max_body_bytes: int = Field(default=50_000_000, ge=1024)
    rules: dict[str, MetricsRule] = Field(min_length=1)

    @field_validator("url")
    @classmethod
    def _url_scheme(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"expected an http:// or https:// URL of a /metrics endpoint, got {value!r}")
        return value

    def thresholds(self) -> list[str]:
        return [rule.threshold(name) for name, rule in self.rules.items()]
