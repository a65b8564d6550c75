"""The routing table: which route sends what (tiers, status, severity, kinds, check names)."""

from __future__ import annotations

import pytest

from opsverify.config.notify import NotifyConfig
from opsverify.config.types import TIERS
from opsverify.notify.policy import Decision
from opsverify.notify.router import RunContext, route_messages
from tests.notify.conftest import result

CHANNELS = {
    "a": {"webhook": {"url": "https://example.com/a"}},
    "b": {"webhook": {"url": "https://example.com/b"}},
}
RUN = RunContext(run_id="r", duration=1.0, tiers_run=TIERS)


def config(*routes: dict, **policy: object) -> NotifyConfig:
    return NotifyConfig.model_validate({"channels": CHANNELS, "routes": list(routes), "policy": policy})


RESULTS = [
    result("api", tiers=("smoke", "daily"), severity="critical"),
    result("cert", kind="tls", tiers=("daily",)),
    result("db", "passed", kind="postgres", tiers=("smoke", "daily")),
    result("backup", "passed", kind="backups", tiers=("daily",)),
]
NEW: dict[str, Decision] = {
    "http:api": "new",
    "tls:cert": "new",
    "postgres:db": "passing",
    "backups:backup": "passing",
}


@pytest.mark.parametrize(
    ("match", "expected"),
    [
        ({}, ("failed", ["http:api", "tls:cert"])),
        ({"tiers": ["smoke"]}, ("failed", ["http:api"])),
        ({"severity": "critical"}, ("failed", ["http:api"])),
        ({"kinds": ["tls", "backups"]}, ("failed", ["tls:cert"])),
        ({"checks": ["ap*"]}, ("failed", ["http:api"])),
        ({"checks": ["postgres:*"]}, None),
        ({"status": "passed", "kinds": ["postgres"]}, ("passed", [])),
        ({"status": "passed"}, None),
        ({"status": "completed", "tiers": ["daily"]}, ("completed", ["http:api", "tls:cert"])),
        ({"tiers": ["weekly"]}, None),
    ],
)
def test_routing_table(match: dict, expected: tuple[str, list[str]] | None) -> None:
    routed = route_messages("prod", RESULTS, NEW, config({"match": match, "to": ["a"]}), RUN)
    if expected is None:
        assert routed == []
        return
    (item,) = routed
    assert (item.message.status, [r.id for r in item.message.failures]) == expected


@pytest.mark.parametrize(
    ("checks", "expected"),
    [
        (["metrics:api"], ["metrics:api/error-ratio", "metrics:api/p95-seconds"]),
        (["api"], ["metrics:api/error-ratio", "metrics:api/p95-seconds"]),
        (["metrics:api/p95-*"], ["metrics:api/p95-seconds"]),
        (["metrics:ap"], None),
    ],
)
def test_a_route_naming_an_entry_covers_the_checks_of_its_rules(
    checks: list[str], expected: list[str] | None
) -> None:
    results = [result(f"api/{rule}", kind="metrics") for rule in ("error-ratio", "p95-seconds")]
    new: dict[str, Decision] = {r.id: "new" for r in results}
    routed = route_messages("prod", results, new, config({"match": {"checks": checks}, "to": ["a"]}), RUN)
    assert [[r.id for r in item.message.failures] for item in routed] == ([expected] if expected else [])


def test_one_message_per_route_with_its_channels() -> None:
    routed = route_messages(
        "prod",
        RESULTS,
        NEW,
        config(
            {"match": {"tiers": ["smoke"]}, "to": ["a", "b"]}, {"match": {"status": "completed"}, "to": "b"}
        ),
        RUN,
    )
    assert [(r.route.to, r.message.status) for r in routed] == [(["a", "b"], "failed"), (["b"], "completed")]
    assert routed[0].message.headline == "[FAILED] prod smoke: 1 of 2 checks failed"
    assert routed[1].message.headline == "[COMPLETED] prod smoke, daily: 2 of 4 checks passed, 2 failed"
    assert routed[0].alert_ids == {"http:api"}
    assert routed[1].alert_ids == set()


def test_still_failing_sends_nothing_and_resolved_is_sent_per_policy() -> None:
    ongoing: dict[str, Decision] = {**NEW, "http:api": "ongoing", "tls:cert": "ongoing"}
    assert route_messages("prod", RESULTS, ongoing, config({"to": ["a"]}), RUN) == []
    recovered = [result("api", "passed", tiers=("smoke",)), result("cert", kind="tls", tiers=("daily",))]
    decisions: dict[str, Decision] = {"http:api": "resolved", "tls:cert": "ongoing"}
    (item,) = route_messages("prod", recovered, decisions, config({"to": ["a"]}), RUN)
    assert item.message.status == "resolved"
    assert item.message.headline == "[RESOLVED] prod smoke, daily: 1 check recovered, 1 still failing"
    quiet = config({"to": ["a"]}, send_on_resolved=False)
    assert route_messages("prod", recovered, decisions, quiet, RUN) == []
    explicit = config({"match": {"status": "resolved"}, "to": ["a"]}, send_on_resolved=False)
    assert [m.message.status for m in route_messages("prod", recovered, decisions, explicit, RUN)] == [
        "resolved"
    ]


def test_run_tiers_narrow_what_a_route_sees() -> None:
    """In a `-m smoke` run a check tagged smoke+daily ran as a smoke check: daily routes stay quiet."""
    smoke_run = RunContext(run_id="r", duration=1.0, tiers_run=("smoke",))
    daily_route = config({"match": {"tiers": ["daily"]}, "to": "a"})
    assert route_messages("prod", RESULTS[:1], NEW, daily_route, smoke_run) == []
    (item,) = route_messages("prod", RESULTS[:1], NEW, config({"to": "a"}), smoke_run)
    assert item.message.tiers == ("smoke",)
