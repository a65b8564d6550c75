"""The alert policy: after how many consecutive failing runs a check alerts, when it repeats, when it resolves."""

from __future__ import annotations

from typing import Literal

from opsverify.config.notify import Policy
from opsverify.results import CheckResult
from opsverify.state.model import NotifyState

Decision = Literal[
    "new",
    "reminder",
    "ongoing",
    "below_threshold",
    "resolved",
    "flapping",
    "passing",
    "skipped",
    "blocked",
    "silenced",
    "maintenance",
]
ALERTING: frozenset[Decision] = frozenset({"new", "reminder"})
FAILING_REACHED: frozenset[Decision] = frozenset({"new", "reminder", "ongoing"})


def decide(results: list[CheckResult], state: NotifyState, policy: Policy, now: float) -> dict[str, Decision]:
    """Update the failure counts in `state` and say, per check id, what this run means for alerting.

    `new`: reached the threshold and not alerted yet; `reminder`: alerted at least `remind_every` ago;
    `ongoing`: alerted and still failing (no duplicate); `resolved`: passes after having alerted.
    `flapping` (`failure_threshold: N of M` only): passes after having alerted, but N of its last M runs still
    failed: nothing is sent and the alert stays open, so a check that flips pass/fail sends neither a
    "resolved" on each pass nor a new alert on each failure. It resolves once fewer than N of the last M
    runs failed.
    `alerted_at` is not touched here: it is set only once a message was actually delivered.
    """
    decisions: dict[str, Decision] = {}
    needed, window = policy.threshold
    for result in results:
        if result.status == "skipped":
            decisions[result.id] = "skipped"
            continue
        check = state.check(result.id)
        check.last_run = now
        check.recent = (check.recent + ("F" if result.failed else "P"))[-(window or 1) :]
        if result.failed:
            check.failures += 1
            check.status = "failed"
            reached = check.recent.count("F") >= needed if window else check.failures >= needed
            if not reached and check.alerted_at is None:
                decisions[result.id] = "below_threshold"
            elif check.alerted_at is None:
                decisions[result.id] = "new"
            elif policy.remind_every is not None and now - check.alerted_at >= policy.remind_every:
                decisions[result.id] = "reminder"
            else:
                decisions[result.id] = "ongoing"
        else:
            check.status = "passed"
            check.failures = 0
            if check.alerted_at is None:
                decisions[result.id] = "passing"
            elif window and check.recent.count("F") >= needed:
                decisions[result.id] = "flapping"  # the alert stays open: alerted_at is kept
            else:
                decisions[result.id] = "resolved"
                check.alerted_at = None
    return decisions


def mark_alerted(state: NotifyState, check_ids: set[str], now: float) -> None:
    """Record that the failures of these checks reached a person (starts the reminder clock)."""
    for check_id in check_ids:
        state.check(check_id).alerted_at = now


def decide_without_state(results: list[CheckResult]) -> dict[str, Decision]:
    """The state store is unreachable: every failure is sent (better a duplicate than a missed alert)."""
    return {r.id: "skipped" if r.status == "skipped" else "new" if r.failed else "passing" for r in results}
