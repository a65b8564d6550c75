"""`min_days_left` at its edge: "at least" — exactly that many days left passes, a day less fails."""

from __future__ import annotations

import pytest

from opsverify.kinds.tls.verdict import RENEW, judge
from opsverify.problem import Problem
from tests.kinds.tls.test_verdict import certificate, entry


@pytest.mark.parametrize(
    ("days_left", "fails"), [(29.0, True), (29.99, True), (30.0, False), (30.01, False), (31.0, False)]
)
def test_min_days_left_is_at_least_the_limit(days_left: float, fails: bool) -> None:
    judgement = judge(entry(min_days_left=30), certificate(days_left=days_left))
    if fails:
        assert judgement.problems == [
            Problem(
                "certificate",
                f"{days_left:.1f} days left: it expires 2026-04-01 00:00 UTC",
                expected="at least 30 days left",
                fix=RENEW,
            )
        ]
    else:
        assert judgement.problems == []


@pytest.mark.parametrize(("days_left", "expired"), [(-0.5, True), (0.0, False), (0.5, False)])
def test_a_certificate_expires_below_zero_days(days_left: float, expired: bool) -> None:
    """0 days left is "expires" (still valid this instant); below 0 it is "expired ... ago"."""
    (problem,) = judge(entry(min_days_left=1), certificate(days_left=days_left)).problems
    if expired:
        assert problem.found == "0 days left: it expired 0.5 days ago, on 2026-04-01 00:00 UTC"
    else:
        assert problem.found == f"{days_left:.1f} days left: it expires 2026-04-01 00:00 UTC"


def test_a_failed_handshake_is_a_connection_problem() -> None:
    from opsverify.kinds.tls.facts import TlsFacts

    error = "connection refused by api.example.com:443"
    facts = TlsFacts("api.example.com", 443, "api.example.com", error=error)
    assert judge(entry(), facts).problems == [Problem("connection", error)]
