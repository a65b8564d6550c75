"""Verdict of `metrics:` checks: each rule is a check of its own, judged on the one scrape of its entry."""

from __future__ import annotations

from opsverify.kinds.metrics.facts import MetricsFacts
from opsverify.kinds.metrics.model import MetricsCheck, MetricsRule
from opsverify.kinds.prometheus.facts import RuleResult
from opsverify.kinds.prometheus.verdict import judge_rules, series_problems
from opsverify.problem import Judgement, Problem

ABSENT_SERIES = "the exposition has no such series"


def judge(entry: MetricsCheck, facts: MetricsFacts, rule: str | None = None) -> Judgement:
    """The problems of `rule` (of every rule when None): missing series or values out of bounds; a failed
    scrape fails every rule with its reason."""
    return judge_rules(entry.rules, facts, rule, _rule_problems)


def _rule_problems(name: str, rule: MetricsRule, result: RuleResult) -> list[Problem]:
    return series_problems(name, rule, result, ABSENT_SERIES)
