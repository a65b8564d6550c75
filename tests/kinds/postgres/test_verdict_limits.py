"""`max_connections_pct` and `max_query_seconds` at their edges: both "at most", the limit included."""

from __future__ import annotations

import pytest

from opsverify.kinds.postgres.facts import ActiveQuery
from opsverify.kinds.postgres.verdict import judge
from tests.kinds.postgres.test_verdict import connected, entry


@pytest.mark.parametrize(
    ("pct", "fails"), [(79.0, False), (79.9, False), (80.0, False), (80.1, True), (81.0, True)]
)
def test_max_connections_pct_is_at_most_the_limit(pct: float, fails: bool) -> None:
    facts = connected(connections=int(pct * 10), max_connections=1000, connections_pct=pct)
    found = [p.subject for p in judge(entry(max_connections_pct=80), facts).problems]
    assert found == (["connections"] if fails else [])


@pytest.mark.parametrize(("seconds", "fails"), [(59.0, False), (60.0, False), (60.5, True), (61.0, True)])
def test_max_query_seconds_is_at_most_the_limit(seconds: float, fails: bool) -> None:
    facts = connected(longest_query=ActiveQuery(42, "app", seconds, "select pg_sleep(600)"))
    found = [p.subject for p in judge(entry(max_query_seconds=60), facts).problems]
    assert found == (["longest active query"] if fails else [])
