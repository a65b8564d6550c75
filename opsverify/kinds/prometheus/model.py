"""Config model of `prometheus:` entries: PromQL instant queries against a Prometheus server, with bounds.

`Bounds` (max / min / equals over every returned series) is shared with the `metrics:` kind.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import yaml
from pydantic import Field, ModelWrapValidatorHandler, PrivateAttr, field_validator, model_validator

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
        """The bounds as a phrase: `<= 0.01`, `>= 15`, `between 1 and 5`, `= 0`."""
        return limits(at_most=self.max, at_least=self.min, equals=self.equals) or "any value"

    def threshold(self, rule: str) -> str:
        """`error-rate <= 0.01` (`, absent ok` when an empty result passes), for `validate`."""
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
    severity: str | None = Field(default=None, description="the alerting rule's `severity` label")
    summary: str | None = Field(default=None, description="the alerting rule's `summary` annotation")
    for_: str | None = Field(
        default=None, alias="for", description="the alerting rule's `for:`; reported, not waited for"
    )

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


FIRING = "firing"  # the rule name of the `firing:` check (`prometheus:main/firing`)


def parse_rules_file(text: str) -> tuple[dict[str, Any], list[str]]:
    """Alerting rules of a Prometheus rules file (`groups:` / `rules:` / `alert:`) as alert rules named
    after the alert, and a note per recording rule skipped; ValueError names what is wrong."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"the rules file is not YAML: {str(exc).splitlines()[0]}") from None
    groups = document.get("groups") if isinstance(document, dict) else None
    if not isinstance(groups, list):
        raise ValueError(
            "the rules file is not a Prometheus rules file: expected `groups:` with a list of "
            "groups, each with `rules:` (https://prometheus.io/docs/prometheus/latest/configuration/alerting_rules/)"
        )
    rules: dict[str, Any] = {}
    notes: list[str] = []
    for index, group in enumerate(groups):
        group_rules = group.get("rules") if isinstance(group, dict) else None
        if not isinstance(group_rules, list):
            raise ValueError(f"the rules file's groups[{index}] has no `rules:` list")
        for rule_index, rule in enumerate(group_rules):
            where = f"the rules file's groups[{index}].rules[{rule_index}]"
            if not isinstance(rule, dict) or not isinstance(rule.get("expr"), str | int | float):
                raise ValueError(f"{where}: expected a mapping with `alert:` or `record:` and `expr:`")
            if "record" in rule:
                notes.append(
                    f"recording rule {rule['record']} skipped (it records a series, it does not alert)"
                )
                continue
            if not isinstance(rule.get("alert"), str) or not rule["alert"].strip():
                raise ValueError(f"{where}: expected `alert: NAME` or `record: NAME`")
            rules[_unique(rules, rule["alert"].strip())] = alert_rule(rule)
    if not rules:
        raise ValueError("the rules file has no alerting rules (`alert:`); nothing to check")
    return rules, notes


def alert_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """One `alert:` rule of a rules file as an alert check (its severity, summary and `for:` kept)."""
    labels: dict[str, Any] = rule["labels"] if isinstance(rule.get("labels"), dict) else {}
    annotations: dict[str, Any] = rule["annotations"] if isinstance(rule.get("annotations"), dict) else {}
    keys: dict[str, Any] = {"expr": str(rule["expr"]).strip(), "alert": True}
    if labels.get("severity") is not None:
        keys["severity"] = str(labels["severity"])
    if annotations.get("summary") is not None:
        keys["summary"] = str(annotations["summary"])
    if rule.get("for") is not None:
        keys["for"] = str(rule["for"])
    return keys


def _unique(rules: dict[str, Any], name: str) -> str:
    """The alert's name, `-2`, `-3`... when several rules share it (one per severity, say)."""
    candidate, number = name, 1
    while candidate in rules:
        number += 1
        candidate = f"{name}-{number}"
    return candidate


class PrometheusCheck(CheckEntry):
    """A Prometheus server (`url` is its base URL) and the rules to evaluate there."""

    url: str
    auth: HttpAuth | None = None
    headers: dict[str, str] = Field(default_factory=dict, description="extra request headers")
    timeout: Duration = Field(default=10.0, gt=0, description="per query, sent to Prometheus too")
    verify: TlsVerify = Field(default=True, description="verify TLS: true, false, or a CA bundle path")
    rules: dict[str, PrometheusRule] = Field(
        default_factory=dict,
        description="name -> rule; or the text of a Prometheus rules file (`rules_file: alerts.yml`)",
    )
    firing: Literal["none"] | list[str] | None = Field(
        default=None,
        description="`none`: no alert may be firing; a list: only these alerts may fire (`/api/v1/alerts`)",
    )
    _skipped: list[str] = PrivateAttr(default_factory=list)  # from a rules file: what is not a check

    @model_validator(mode="wrap")
    @classmethod
    def _rules_file_text(
        cls, data: Any, handler: ModelWrapValidatorHandler[PrometheusCheck]
    ) -> PrometheusCheck:
        """`rules_file: alerts.yml` (every `X_file` key reads X from that file) gives `rules` as the text of a
        Prometheus rules file: its alerting rules become the entry's rules."""
        entry = handler(data)  # `rules` itself parses the text (errors name the key), below
        if isinstance(data, dict) and isinstance(data.get("rules"), str):
            entry._skipped = parse_rules_file(data["rules"])[1]
        return entry

    @field_validator("rules", mode="before")
    @classmethod
    def _rules_text(cls, value: Any) -> Any:
        return parse_rules_file(value)[0] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _something_to_check(self) -> PrometheusCheck:
        if not self.rules and self.firing is None:
            raise ValueError("give `rules:`, `rules_file:` and/or `firing:`; this entry checks nothing")
        if FIRING in self.rules and self.firing is not None:
            raise ValueError(f"a rule named {FIRING!r} clashes with the `firing:` check; rename the rule")
        return self

    @property
    def skipped(self) -> list[str]:
        """What the rules file held that is not a check (recording rules), one note each."""
        return list(self._skipped)

    def rule_names(self) -> list[str]:
        """Each rule is a check; `firing:` is one more (`prometheus:main/firing`)."""
        return list(self.rules) + ([FIRING] if self.firing is not None else [])

    def firing_threshold(self) -> str:
        allowed = "none" if self.firing == "none" or not self.firing else ", ".join(self.firing)
        return f"firing alerts: {allowed}" if self.firing != "none" else "no alert firing"

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
        rules = [rule.threshold(name) for name, rule in self.rules.items()]
        return rules + ([self.firing_threshold()] if self.firing is not None else [])

    def rule_threshold(self, rule: str) -> str:
        return (
            self.firing_threshold()
            if rule == FIRING and self.firing is not None
            else self.rules[rule].threshold(rule)
        )
