"""The tcp verdict's remaining cases: no connection without an error, no banner at all, the evidence."""

from __future__ import annotations

from opsverify.kinds.tcp.facts import TcpFacts
from opsverify.kinds.tcp.verdict import judge
from opsverify.problem import Problem
from tests.kinds.tcp.test_verdict import entry


def test_not_connected_without_an_error_is_still_a_connection_problem() -> None:
    facts = TcpFacts("db.internal:5432", connected=False)
    assert judge(entry(), facts).problems == [Problem("connection", "no connection to db.internal:5432")]


def test_a_missing_banner_says_none_and_what_was_expected() -> None:
    facts = TcpFacts("db.internal:25", connected=True)
    judgement = judge(entry(banner="^220 "), facts)
    assert judgement.problems == [Problem("banner", "none", expected="a line matching /^220 /")]
    assert judgement.evidence == facts.summary()
    assert judgement.evidence
