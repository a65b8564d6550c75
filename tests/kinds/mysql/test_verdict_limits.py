"""`max_replica_lag` at its edges: "at most", the limit included (`max_connections_pct` and `max_query_seconds`,
shared with postgres: tests/kinds/test_database_verdict_limits.py)."""

from __future__ import annotations

import pytest

from opsverify.kinds.mysql.verdict import judge
from tests.kinds.mysql.test_verdict import connected, entry, replica


@pytest.mark.parametrize(("lag", "fails"), [(29.0, False), (30.0, False), (31.0, True)])
def test_max_replica_lag_is_at_most_the_limit(lag: float, fails: bool) -> None:
    facts = connected(replica_checked=True, replica=replica(lag_seconds=lag))
    found = [p.subject for p in judge(entry(max_replica_lag=30), facts).problems]
    assert found == (["replica lag"] if fails else [])
