"""One message per channel per run, whatever routes matched (the duplicate "resolved" of issue 12)."""

from __future__ import annotations

import pytest

from opsverify.config.notify import NotifyConfig
from opsverify.config.types import TIERS
from opsverify.notify.policy import Decision
from opsverify.notify.router import RunContext, by_channel, route_messages
from tests.notify.conftest import result
from tests.notify.e2e import Service, target_yaml

RUN = RunContext(run_id="r", duration=1.0, tiers_run=TIERS)


@pytest.fixture
def service(http_server) -> Service:
    return Service(http_server).install()


def test_a_failure_then_a_pass_sends_one_resolved_to_a_channel_two_routes_name(service, run_checks) -> None:
    text = target_yaml(
        service.server.url,
        "  routes:\n"
        "    - {match: {tiers: [smoke], status: failed}, to: [ops-slack]}\n"
        "    - {match: {status: resolved}, to: [ops-slack, ops-hook]}\n"
        "  policy: {send_on_resolved: true}\n",
    )
    sent = []
    for healthy in (False, True):
        service.healthy = healthy
        service.clear()
        run = run_checks(text, "-m", "smoke")
        assert run.returncode == (0 if healthy else 1), run.output
        sent.append(([m["text"] for m in service.slack_messages()], len(service.posts("/hook"))))
    assert sent == [
        (["[FAILED] shop-prod smoke: 1 of 2 checks failed"], 0),
        (["[RESOLVED] shop-prod smoke: 1 check recovered, all 2 checks pass"], 1),
    ]


def test_routes_to_one_channel_merge_into_one_message() -> None:
    config = NotifyConfig.model_validate(
        {
            "channels": {
                "a": {"webhook": {"url": "https://example.com/a"}},
                "b": {"webhook": {"url": "https://example.com/b"}},
            },
            "routes": [
                {"match": {"tiers": ["smoke"], "status": "failed"}, "to": ["a"]},
                {"match": {"tiers": ["daily"], "status": "failed"}, "to": ["a", "b"]},
                {"match": {"status": "completed"}, "to": ["a"]},
            ],
        }
    )
    results = [
        result("api", tiers=("smoke",)),
        result("cert", kind="tls", tiers=("daily",)),
        result("db", "passed", kind="postgres", tiers=("daily",)),
    ]
    decisions: dict[str, Decision] = {"http:api": "new", "tls:cert": "new", "postgres:db": "passing"}
    merged = by_channel(route_messages("prod", results, decisions, config, RUN))
    assert [m.channel for m in merged] == ["a", "b"]
    a, b = merged
    assert a.message.status == "failed"
    assert [r.id for r in a.message.failures] == ["http:api", "tls:cert"]
    assert a.alert_ids == {"http:api", "tls:cert"}
    assert a.message.route == "routes[0] + routes[1] + routes[2]"
    assert [r.id for r in b.message.failures] == ["tls:cert"]
