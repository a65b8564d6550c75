"""Policy over several runs: threshold, no duplicates while still failing, reminders, resolved."""

from __future__ import annotations

from opsverify.config.notify import Policy
from opsverify.notify.policy import decide, mark_alerted
from opsverify.notify.state import NotifyState
from tests.notify.conftest import result

HOUR = 3600.0


def run(state: NotifyState, policy: Policy, status: str, now: float) -> str:
    decision = decide([result("api", status)], state, policy, now)["http:api"]
    if decision in ("new", "reminder"):
        mark_alerted(state, {"http:api"}, now)
    return decision


def test_threshold_then_no_duplicates_then_resolved(tmp_path) -> None:
    state, policy = NotifyState(), Policy(failure_threshold=3)
    decisions = [run(state, policy, s, i * HOUR) for i, s in enumerate(["failed"] * 5 + ["passed", "passed"])]
    assert decisions == [
        "below_threshold",
        "below_threshold",
        "new",
        "ongoing",
        "ongoing",
        "resolved",
        "passing",
    ]


def test_remind_every_repeats_while_failing(tmp_path) -> None:
    state, policy = NotifyState(), Policy(remind_every=6 * HOUR)
    decisions = [run(state, policy, "failed", i * 2 * HOUR) for i in range(7)]
    assert decisions == ["new", "ongoing", "ongoing", "reminder", "ongoing", "ongoing", "reminder"]


def test_undelivered_alert_is_tried_again(tmp_path) -> None:
    state, policy = NotifyState(), Policy()
    assert decide([result("api")], state, policy, 0)["http:api"] == "new"  # not marked: delivery failed
    assert decide([result("api")], state, policy, 1)["http:api"] == "new"


def test_skipped_checks_leave_the_count_alone(tmp_path) -> None:
    state, policy = NotifyState(), Policy(failure_threshold=2)
    run(state, policy, "failed", 0)
    assert decide([result("api", "skipped")], state, policy, 1)["http:api"] == "skipped"
    assert run(state, policy, "failed", 2) == "new"
