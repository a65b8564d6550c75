"""Verdict of `prometheus:` checks: each rule is a check of its own, judged on the series its query returned.

The rule loop (`judge_rules`) and the bounds over series (`series_problems`) are shared with the `metrics`
kind, whose verdict imports them from here (this module never imports the metrics kind).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Protocol, TypeVar

from opsverify.kinds.prometheus.facts import PrometheusFacts, RuleResult, Series
from opsverify.kinds.prometheus.model import FIRING, Bounds, PrometheusCheck, PrometheusRule
from opsverify.problem import Judgement, Problem
from opsverify.units import format_number

MAX_LISTED_SERIES = 10  # offending series named in one message; the rest are counted
ABSENT_METRIC = "the metric is absent: not scraped, renamed, or a typo in `expr`"

R = TypeVar("R")


class RuleFacts(Protocol):
    """What both kinds' facts offer the rule loop: each rule's result, the probe's error, a report."""

    @property
    def results(self) -> Mapping[str, RuleResult]: ...

    @property
    def error(self) -> str | None: ...

    def report(self, rule: str | None = None) -> str: ...


def judge(entry: PrometheusCheck, facts: PrometheusFacts, rule: str | None = None) -> Judgement:
    """The problems of `rule` (of every rule when None): rejected, absent, out of bounds, alert firing;
    `firing` judges the server's firing alerts against `firing:`."""
    if rule == FIRING and entry.firing is not None:
        return _judge_firing(entry, facts)
    judgement = judge_rules(entry.rules, facts, rule, _rule_problems)
    if rule is None and entry.firing is not None:
        firing = _judge_firing(entry, facts)
        if firing.problems:
            problems = judgement.problems + [p for p in firing.problems if p not in judgement.problems]
            return Judgement(problems, judgement.evidence or firing.evidence)
    return judgement


def _judge_firing(entry: PrometheusCheck, facts: PrometheusFacts) -> Judgement:
    if facts.firing is None:
        return Judgement([Problem("", facts.error or facts.firing_error or "the alerts were not read")])
    allowed = set() if entry.firing == "none" or entry.firing is None else set(entry.firing)
    unexpected = [alert for alert in facts.firing if alert.name not in allowed]
    if not unexpected:
        return Judgement([])
    expected = "none firing" if not allowed else f"only {', '.join(sorted(allowed))} may fire"
    found = f"{len(unexpected)} firing: " + "; ".join(a.text() for a in unexpected[:MAX_LISTED_SERIES])
    more = len(unexpected) - MAX_LISTED_SERIES
    found += f" … and {more} more" if more > 0 else ""
    return Judgement([Problem("alerts", found, expected)], facts.report(FIRING))


def _rule_problems(name: str, rule: PrometheusRule, result: RuleResult) -> list[Problem]:
    if not rule.alert:
        return series_problems(name, rule, result, ABSENT_METRIC)
    if result.error:
        return [Problem(f"rule {name}", result.error)]
    if not result.series:
        return []
    severity = f"{rule.severity} alert" if rule.severity else "alert"
    summary = f" ({rule.summary})" if rule.summary else ""
    waits = f"; its `for: {rule.for_}` is not waited for" if rule.for_ else ""
    found = (
        f"{severity} condition {result.expr} is true for {len(result.series)} series (expected none)"
        f"{summary}: {list_series(result.series)}{waits}"
    )
    return [Problem(f"rule {name}", found)]


def judge_rules(
    rules: Mapping[str, R],
    facts: RuleFacts,
    rule: str | None,
    judge_one: Callable[[str, R, RuleResult], list[Problem]],
) -> Judgement:
    """Judge one rule (or all when `rule` is None) on its result; a rule without a result fails with the
    probe's error (the server could not be queried, the scrape failed), named once."""
    if rule is not None and rule not in rules:
        known = ", ".join(rules) or "none"
        return Judgement([Problem(f"rule {rule}", f"not a rule of this entry (its rules: {known})")])
    problems: list[Problem] = []
    evaluated = False
    for name in [rule] if rule is not None else list(rules):
        result = facts.results.get(name)
        if result is None:
            missing = Problem("", facts.error) if facts.error else Problem(f"rule {name}", "not evaluated")
            if missing not in problems:
                problems.append(missing)
            continue
        evaluated = True
        problems += judge_one(name, rules[name], result)
    evidence = facts.report(rule) if problems and evaluated else ""
    return Judgement(problems, evidence)


def series_problems(name: str, bounds: Bounds, result: RuleResult, absent_hint: str) -> list[Problem]:
    """Problems with one rule's result: not evaluated, no series, or series out of bounds (named)."""
    subject = f"rule {name}"
    if result.error:
        return [Problem(subject, result.error)]
    if not result.series:
        if bounds.absent_ok:
            return []
        found = f"no series for {result.expr}: {result.note or absent_hint}"
        return [Problem(subject, found, fix="set `absent_ok: true` if an empty result is fine")]
    offending = [series for series in result.series if not within(bounds, series.value)]
    if not offending:
        return []
    nan = " (NaN comes from 0/0, e.g. no traffic in the window)" if _any_nan(offending) else ""
    if len(result.series) == 1:
        only = result.series[0]
        where = f" for {only.label_text()}" if set(only.labels) - {"__name__"} else ""
        found = f"{format_number(only.value)}{where}{nan} ({result.expr})"
        return [Problem(subject, found, bounds.describe())]
    found = (
        f"{len(offending)} of {len(result.series)} series not {bounds.describe()}{nan} ({result.expr}): "
        f"{list_series(offending)}"
    )
    return [Problem(subject, found)]


def within(bounds: Bounds, value: float) -> bool:
    """Whether `value` meets the bounds (NaN never does)."""
    if math.isnan(value):
        return False
    if bounds.equals is not None:
        return value == bounds.equals
    return (bounds.max is None or value <= bounds.max) and (bounds.min is None or value >= bounds.min)


def _any_nan(series: list[Series]) -> bool:
    return any(math.isnan(s.value) for s in series)


def list_series(series: list[Series]) -> str:
    """`a{x="1"} = 0.5; a{x="2"} = 0.7 … and 3 more` for messages."""
    shown = "; ".join(f"{s.label_text()} = {format_number(s.value)}" for s in series[:MAX_LISTED_SERIES])
    more = len(series) - MAX_LISTED_SERIES
    return shown + (f" … and {more} more" if more > 0 else "")
