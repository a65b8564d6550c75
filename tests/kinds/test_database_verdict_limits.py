"""The shared verdict of the SQL database kinds (`opsverify.kinds.database_verdict`): `max_connections_pct` and
`max_query_seconds` at their edges, for postgres and mysql: both "at most", the limit included."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import pytest

from opsverify.kinds.database_facts import ActiveQuery
from opsverify.kinds.mysql.verdict import judge as judge_mysql
from opsverify.kinds.postgres.verdict import judge as judge_postgres
from opsverify.problem import Judgement
from tests.kinds.mysql import test_verdict as mysql
from tests.kinds.postgres import test_verdict as postgres


class Kind(NamedTuple):
    entry: Callable[..., Any]
    connected: Callable[..., Any]
    judge: Callable[..., Judgement]
    longest: str  # the subject of the longest query's problem
    sleep: str  # a long query of this server


KINDS = [
    pytest.param(
        Kind(
            postgres.entry, postgres.connected, judge_postgres, "longest active query", "select pg_sleep(600)"
        ),
        id="postgres",
    ),
    pytest.param(
        Kind(mysql.entry, mysql.connected, judge_mysql, "longest running query", "select sleep(600)"),
        id="mysql",
    ),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("pct", "fails"), [(79.0, False), (79.9, False), (80.0, False), (80.1, True), (81.0, True)]
)
def test_max_connections_pct_is_at_most_the_limit(kind: Kind, pct: float, fails: bool) -> None:
    facts = kind.connected(connections=int(pct * 10), max_connections=1000, connections_pct=pct)
    found = [p.subject for p in kind.judge(kind.entry(max_connections_pct=80), facts).problems]
    assert found == (["connections"] if fails else [])


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("seconds", "fails"), [(59.0, False), (60.0, False), (60.5, True), (61.0, True)])
def test_max_query_seconds_is_at_most_the_limit(kind: Kind, seconds: float, fails: bool) -> None:
    facts = kind.connected(longest_query=ActiveQuery(42, "app", seconds, kind.sleep))
    found = [p.subject for p in kind.judge(kind.entry(max_query_seconds=60), facts).problems]
    assert found == ([kind.longest] if fails else [])
