"""The notification policy's limits at their edges: `failure_threshold` (N, or N of M) and `remind_every`.

Both include their value: the Nth failure alerts (the (N-1)th does not); a reminder goes out once exactly
`remind_every` has passed since the alert (one second earlier it is still "ongoing").
"""

from __future__ import annotations

import pytest

from opsverify.config.notify import Policy
from opsverify.notify.policy import decide, decide_without_state, mark_alerted
from opsverify.notify.state import NotifyState
from tests.notify.conftest import result

HOUR = 3600.0


def decision(state: NotifyState, policy: Policy, status: str, now: float) -> str:
    return decide([result("api", status)], state, policy, now)["http:api"]


@pytest.mark.parametrize(("failures", "last"), [(2, "below_threshold"), (3, "new")])
def test_failure_threshold_alerts_at_the_nth_failure(failures: int, last: str) -> None:
    state, policy = NotifyState(), Policy(failure_threshold=3)
    decisions = [decision(state, policy, "failed", float(i)) for i in range(failures)]
    assert decisions[-1] == last
    assert set(decisions[:-1]) <= {"below_threshold"}


@pytest.mark.parametrize(
    ("runs", "last"),
    [("FPPF", "below_threshold"), ("FPFF", "new"), ("FFPF", "new")],
)
def test_n_of_m_alerts_when_exactly_n_of_the_last_m_failed(runs: str, last: str) -> None:
    """`3 of 4`: a run history with 2 failures in the window stays below; 3 failures alert."""
    state, policy = NotifyState(), Policy(failure_threshold="3 of 4")
    decisions = [
        decision(state, policy, "failed" if r == "F" else "passed", float(i)) for i, r in enumerate(runs)
    ]
    assert decisions[-1] == last


@pytest.mark.parametrize(
    ("since", "last"), [(6 * HOUR - 1, "ongoing"), (6 * HOUR, "reminder"), (6 * HOUR + 1, "reminder")]
)
def test_remind_every_is_reached_at_exactly_its_duration(since: float, last: str) -> None:
    state, policy = NotifyState(), Policy(remind_every=6 * HOUR)
    assert decision(state, policy, "failed", 0.0) == "new"
    mark_alerted(state, {"http:api"}, 0.0)
    assert decision(state, policy, "failed", since) == last


@pytest.mark.parametrize(("runs", "last"), [("FFFFP", "flapping"), ("FFFFPP", "resolved")])
def test_a_passing_run_resolves_once_fewer_than_n_of_the_last_m_failed(runs: str, last: str) -> None:
    """`3 of 4`: after an alert, a pass with 3 failures still in the window is flapping; with 2 it resolves."""
    state, policy = NotifyState(), Policy(failure_threshold="3 of 4")
    decisions = []
    for i, r in enumerate(runs):
        decisions.append(decision(state, policy, "failed" if r == "F" else "passed", float(i)))
        if decisions[-1] == "new":
            mark_alerted(state, {"http:api"}, float(i))
    assert decisions[-1] == last


def test_the_state_remembers_each_run() -> None:
    """What the store keeps of a check: its status, consecutive failures, last run and recent outcomes."""
    state = NotifyState()
    windowed, plain = Policy(failure_threshold="2 of 3"), Policy(failure_threshold=2)
    decision(state, windowed, "failed", 10.0)
    decision(state, windowed, "passed", 20.0)
    check = state.check("http:api")
    assert (check.status, check.failures, check.last_run, check.recent) == ("passed", 0, 20.0, "FP")
    decision(state, windowed, "failed", 30.0)
    decision(state, windowed, "failed", 40.0)
    assert (check.status, check.failures, check.last_run, check.recent) == ("failed", 2, 40.0, "PFF")
    other = NotifyState()
    decision(other, plain, "failed", 1.0)
    decision(other, plain, "passed", 2.0)
    assert other.check("http:api").recent == "P"  # without a window only the last outcome is kept


def test_a_skipped_check_does_not_stop_the_others() -> None:
    results = [result("a", "skipped"), result("b"), result("c", "passed")]
    decisions = decide(results, NotifyState(), Policy(), 0.0)
    assert decisions == {"http:a": "skipped", "http:b": "new", "http:c": "passing"}


def test_without_the_state_store_every_failure_is_new() -> None:
    results = [result("a", "skipped"), result("b"), result("c", "passed")]
    assert decide_without_state(results) == {"http:a": "skipped", "http:b": "new", "http:c": "passing"}
