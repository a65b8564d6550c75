"""The prometheus verdict from constructed facts: each rule judged on its own, every problem it can name."""

from __future__ import annotations

import math

import pytest

from opsverify.kinds.prometheus.facts import PrometheusFacts, RuleResult, Series
from opsverify.kinds.prometheus.model import PrometheusCheck
from opsverify.kinds.prometheus.verdict import judge
from opsverify.problem import Problem

URL = "http://prometheus:9090"
ERROR_RATE = "sum(rate(errors[5m])) / sum(rate(requests[5m]))"
DOWN = 'up{job="postgres"} == 0'


def entry(**rules: dict[str, object]) -> PrometheusCheck:
    return PrometheusCheck.model_validate({"url": URL, "rules": rules})


MAIN = entry(
    **{
        "error-rate": {"expr": ERROR_RATE, "max": 0.01},
        "postgres-down": {"expr": DOWN, "alert": True},
        "per-instance": {"expr": "load1", "max": 4},
    }
)


def facts(**results: RuleResult) -> PrometheusFacts:
    return PrometheusFacts(url=URL, results=dict(results), elapsed_ms=12)


def series(value: float, **labels: str) -> Series:
    return Series(dict(labels), value)


def healthy() -> dict[str, RuleResult]:
    return {
        "error-rate": RuleResult(ERROR_RATE, [series(0.001)]),
        "postgres-down": RuleResult(DOWN),
        "per-instance": RuleResult("load1", [series(0.5, __name__="load1", instance="a")]),
    }


def texts(problems: list[Problem]) -> list[str]:
    return [problem.text for problem in problems]


def test_every_rule_within_its_bounds_passes_without_evidence() -> None:
    observed = facts(**healthy())
    for rule in MAIN.rules:
        judgement = judge(MAIN, observed, rule)
        assert judgement.passed, rule
        assert judgement.evidence == ""
    assert judge(MAIN, observed).passed


def test_one_failing_rule_fails_only_its_own_check_and_a_second_one_is_seen() -> None:
    results = healthy() | {"error-rate": RuleResult(ERROR_RATE, [series(0.03)])}
    observed = facts(**results)
    (problem,) = judge(MAIN, observed, "error-rate").problems
    assert problem == Problem("rule error-rate", f"0.03 ({ERROR_RATE})", "<= 0.01")
    assert problem.text == f"rule error-rate: expected <= 0.01, got 0.03 ({ERROR_RATE})"
    assert judge(MAIN, observed, "postgres-down").passed
    # the alert starts firing while the error rate still fails: its own check fails too
    observed.results["postgres-down"] = RuleResult(DOWN, [series(0, __name__="up", job="postgres")])
    assert not judge(MAIN, observed, "error-rate").passed
    (alert,) = texts(judge(MAIN, observed, "postgres-down").problems)
    assert alert == (
        f'rule postgres-down: alert condition {DOWN} is true for 1 series (expected none): up{{job="postgres"}} = 0'
    )
    assert len(judge(MAIN, observed).problems) == 2


def test_the_evidence_is_the_failing_rule_alone() -> None:
    results = healthy() | {"error-rate": RuleResult(ERROR_RATE, [series(0.03)], note="from 2 series")}
    evidence = judge(MAIN, facts(**results), "error-rate").evidence
    assert evidence.splitlines() == [
        f"Prometheus {URL} (12 ms)",
        f"error-rate: {ERROR_RATE}  [from 2 series]",
        "    {} = 0.03",
    ]


def test_a_server_error_fails_every_rule_without_a_result_with_that_error() -> None:
    error = f"connection refused by prometheus:9090 ({URL}/api/v1/query)"
    observed = PrometheusFacts(url=URL, results={"error-rate": healthy()["error-rate"]}, error=error)
    assert judge(MAIN, observed, "error-rate").passed  # evaluated before the server went away
    for rule in ("postgres-down", "per-instance"):
        judgement = judge(MAIN, observed, rule)
        assert judgement.problems == [Problem("", error)]
        assert judgement.evidence == ""
    assert texts(judge(MAIN, observed).problems) == [error]  # the whole entry: named once


def test_a_rejected_query_is_named_with_its_rule() -> None:
    rejected = RuleResult("sum(up", error="Prometheus rejected the query (bad_data): parse error; fix `expr`")
    observed = facts(**healthy() | {"per-instance": rejected})
    assert texts(judge(MAIN, observed, "per-instance").problems) == [
        "rule per-instance: Prometheus rejected the query (bad_data): parse error; fix `expr`"
    ]
    alert_rejected = RuleResult(DOWN, error="the query returns a string")
    observed = facts(**healthy() | {"postgres-down": alert_rejected})
    assert texts(judge(MAIN, observed, "postgres-down").problems) == [
        "rule postgres-down: the query returns a string"
    ]


def test_no_series_fails_with_the_fix_unless_absent_ok() -> None:
    observed = facts(**healthy() | {"per-instance": RuleResult("load1")})
    (problem,) = judge(MAIN, observed, "per-instance").problems
    assert problem.fix == "set `absent_ok: true` if an empty result is fine"
    assert problem.text == (
        "rule per-instance: no series for load1: the metric is absent: not scraped, renamed, or a typo in "
        "`expr`; set `absent_ok: true` if an empty result is fine"
    )
    lenient = entry(**{"per-instance": {"expr": "load1", "max": 4, "absent_ok": True}})
    assert judge(lenient, observed, "per-instance").passed


def test_one_series_out_of_bounds_names_its_labels_and_nan_is_explained() -> None:
    one = RuleResult("load1", [series(7.5, __name__="load1", instance="a")])
    (text,) = texts(judge(MAIN, facts(**healthy() | {"per-instance": one}), "per-instance").problems)
    assert text == 'rule per-instance: expected <= 4, got 7.5 for load1{instance="a"} (load1)'
    nan = RuleResult(ERROR_RATE, [series(math.nan)])
    (text,) = texts(judge(MAIN, facts(**healthy() | {"error-rate": nan}), "error-rate").problems)
    assert text.startswith("rule error-rate: expected <= 0.01, got NaN (NaN comes from 0/0")


def test_several_series_list_only_the_offending_ones_capped_at_ten() -> None:
    many = [series(float(i), __name__="load1", instance=f"i{i:02}") for i in range(20)]
    observed = facts(**healthy() | {"per-instance": RuleResult("load1", many)})
    (text,) = texts(judge(MAIN, observed, "per-instance").problems)
    assert text.startswith("rule per-instance: 15 of 20 series not <= 4 (load1): ")
    assert 'load1{instance="i05"} = 5' in text
    assert 'instance="i04"' not in text
    assert text.endswith(" … and 5 more")


def test_bounds_between_and_equals() -> None:
    bounded = entry(
        pct={"expr": "disk_free_pct", "min": 15, "max": 90},
        zero={"expr": "queue", "equals": 0},
    )
    observed = facts(pct=RuleResult("disk_free_pct", [series(10)]), zero=RuleResult("queue", [series(0)]))
    assert texts(judge(bounded, observed, "pct").problems) == [
        "rule pct: expected between 15 and 90, got 10 (disk_free_pct)"
    ]
    assert judge(bounded, observed, "zero").passed


def test_an_unknown_rule_fails_closed() -> None:
    (text,) = texts(judge(MAIN, facts(**healthy()), "cpu").problems)
    assert text == "rule cpu: not a rule of this entry (its rules: error-rate, postgres-down, per-instance)"


def test_a_rule_the_probe_never_reached_fails_closed() -> None:
    observed = facts(**{"error-rate": healthy()["error-rate"]})
    assert texts(judge(MAIN, observed, "per-instance").problems) == ["rule per-instance: not evaluated"]


def test_firing_alerts_against_none_and_a_list() -> None:
    from opsverify.kinds.prometheus.facts import FiringAlert

    watchdog = FiringAlert("Watchdog", {"alertname": "Watchdog", "severity": "none"}, "2026-01-01T00:00:00Z")
    disk = FiringAlert("DiskFull", {"alertname": "DiskFull", "instance": "db1"})
    none = PrometheusCheck.model_validate({"url": URL, "firing": "none"})
    observed = PrometheusFacts(url=URL, firing=[disk, watchdog])
    (problem,) = judge(none, observed, "firing").problems
    assert problem.text == (
        'alerts: expected none firing, got 2 firing: DiskFull{instance="db1"}; '
        'Watchdog{severity="none"} since 2026-01-01T00:00:00Z'
    )
    allowed = PrometheusCheck.model_validate({"url": URL, "firing": ["Watchdog", "DiskFull"]})
    assert judge(allowed, observed, "firing").problems == []
    assert judge(none, PrometheusFacts(url=URL, firing=[]), "firing").problems == []
    unread = PrometheusFacts(url=URL, firing_error="connection refused by p:9090")
    assert [p.text for p in judge(none, unread, "firing").problems] == ["connection refused by p:9090"]
    assert [p.text for p in judge(none, PrometheusFacts(url=URL), "firing").problems] == [
        "the alerts were not read"
    ]


def test_an_alert_rule_names_its_severity_summary_and_for() -> None:
    check = PrometheusCheck.model_validate(
        {
            "url": URL,
            "rules": "groups:\n- name: g\n  rules:\n  - alert: PgDown\n    expr: up == 0\n    for: 5m\n"
            "    labels: {severity: critical}\n    annotations: {summary: PostgreSQL is down}\n"
            "  - record: x\n    expr: up\n",
        }
    )
    assert check.skipped == ["recording rule x skipped (it records a series, it does not alert)"]
    (problem,) = judge(check, facts(PgDown=RuleResult("up == 0", [series(0, job="pg")])), "PgDown").problems
    assert problem.text == (
        "rule PgDown: critical alert condition up == 0 is true for 1 series (expected none) "
        '(PostgreSQL is down): {job="pg"} = 0; its `for: 5m` is not waited for'
    )


def test_an_alert_outside_the_allowed_list_names_the_allowed_ones_and_the_evidence_is_the_alerts() -> None:
    from opsverify.kinds.prometheus.facts import FiringAlert

    allowed = PrometheusCheck.model_validate(
        {"url": URL, "rules": {"load": {"expr": "load1", "max": 4}}, "firing": ["Watchdog", "DiskFull"]}
    )
    observed = PrometheusFacts(
        url=URL,
        results={"load": RuleResult("load1", [series(0.5)])},
        firing=[FiringAlert("Watchdog", {}), FiringAlert("BackupMissing", {"job": "db"})],
    )
    judgement = judge(allowed, observed, "firing")
    assert judgement.problems == [
        Problem("alerts", '1 firing: BackupMissing{job="db"}', "only DiskFull, Watchdog may fire")
    ]
    assert judgement.evidence == observed.report("firing")
    assert "load1" not in judgement.evidence


@pytest.mark.parametrize(("alerts", "more"), [(10, ""), (11, " … and 1 more"), (12, " … and 2 more")])
def test_ten_firing_alerts_are_named_and_the_rest_counted(alerts: int, more: str) -> None:
    from opsverify.kinds.prometheus.facts import FiringAlert

    none = PrometheusCheck.model_validate({"url": URL, "firing": "none"})
    firing = [FiringAlert(f"A{i:02}", {}) for i in range(alerts)]
    (problem,) = judge(none, PrometheusFacts(url=URL, firing=firing), "firing").problems
    named = "; ".join(f"A{i:02}{{}}" for i in range(10))
    assert problem.found == f"{alerts} firing: {named}{more}"


def test_one_series_with_only_a_metric_name_is_not_named_again() -> None:
    observed = facts(**healthy() | {"per-instance": RuleResult("load1", [series(5.0, __name__="load1")])})
    (problem,) = judge(MAIN, observed, "per-instance").problems
    assert problem == Problem("rule per-instance", "5 (load1)", "<= 4")


def test_all_rules_at_once_add_the_firing_alerts_and_one_rule_does_not() -> None:
    from opsverify.kinds.prometheus.facts import FiringAlert

    check = PrometheusCheck.model_validate(
        {"url": URL, "rules": {"load": {"expr": "load1", "max": 4}}, "firing": "none"}
    )
    observed = PrometheusFacts(
        url=URL, results={"load": RuleResult("load1", [series(9.0)])}, firing=[FiringAlert("DiskFull", {})]
    )
    rule_problem = Problem("rule load", "9 (load1)", "<= 4")
    alerts_problem = Problem("alerts", "1 firing: DiskFull{}", "none firing")
    everything = judge(check, observed)
    assert everything.problems == [rule_problem, alerts_problem]
    assert everything.evidence == observed.report(None)
    assert judge(check, observed, "load").problems == [rule_problem]
    calm = PrometheusFacts(url=URL, results={"load": RuleResult("load1", [series(9.0)])}, firing=[])
    assert judge(check, calm).problems == [rule_problem]


def test_an_entry_without_rules_says_so_for_an_unknown_rule() -> None:
    alerts_only = PrometheusCheck.model_validate({"url": URL, "firing": "none"})
    assert texts(judge(alerts_only, PrometheusFacts(url=URL, firing=[]), "cpu").problems) == [
        "rule cpu: not a rule of this entry (its rules: none)"
    ]


def test_a_rule_without_a_result_does_not_hide_the_rules_after_it() -> None:
    observed = facts(**{"per-instance": RuleResult("load1", [series(9.0, __name__="load1", instance="a")])})
    assert texts(judge(MAIN, observed).problems) == [
        "rule error-rate: not evaluated",
        "rule postgres-down: not evaluated",
        'rule per-instance: expected <= 4, got 9 for load1{instance="a"} (load1)',
    ]
