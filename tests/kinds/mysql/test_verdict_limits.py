"""`max_connections_pct`, `max_query_seconds` and `max_replica_lag` at their edges: all "at most", the limit
included."""

from __future__ import annotations

import pytest

from opsverify.kinds.mysql.facts import ActiveQuery
from opsverify.kinds.mysql.verdict import judge
from tests.kinds.mysql.test_verdict import connected, entry, replica


@pytest.mark.parametrize(
    ("pct", "fails"), [(79.0, False), (79.9, False), (80.0, False), (80.1, True), (81.0, True)]
)
def test_max_connections_pct_is_at_most_the_limit(pct: float, fails: bool) -> None:
    facts = connected(connections=int(pct * 10), max_connections=1000, connections_pct=pct)
    found = [p.subject for p in judge(entry(max_connections_pct=80), facts).problems]
    assert found == (["connections"] if fails else [])


@pytest.mark.parametrize(("seconds", "fails"), [(59.0, False), (60.0, False), (60.5, True), (61.0, True)])
def test_max_query_seconds_is_at_most_the_limit(seconds: float, fails: bool) -> None:
    facts = connected(longest_query=ActiveQuery(42, "app", seconds, "select sleep(600)"))
    found = [p.subject for p in judge(entry(max_query_seconds=60), facts).problems]
    assert found == (["longest running query"] if fails else [])


@pytest.mark.parametrize(("lag", "fails"), [(29.0, False), (30.0, False), (31.0, True)])
def test_max_replica_lag_is_at_most_the_limit(lag: float, fails: bool) -> None:
    facts = connected(replica_checked=True, replica=replica(lag_seconds=lag))
    found = [p.subject for p in judge(entry(max_replica_lag=30), facts).problems]
    assert found == (["replica lag"] if fails else [])
