"""The mysql verdict from constructed facts (no server): each problem of the entry's own check and of a named
query's check, the replica states, the evidence."""

from __future__ import annotations

from typing import Any

from opsverify.kinds.mysql.facts import ActiveQuery, MysqlFacts, QueryResult, ReplicaStatus
from opsverify.kinds.mysql.model import MysqlCheck
from opsverify.kinds.mysql.verdict import REPLICA_FIX, judge
from opsverify.problem import Problem

WHERE = "db:3306/shop"
REVISION_SQL = "select version_num from alembic_version"


def entry(**keys: Any) -> MysqlCheck:
    return MysqlCheck.model_validate({"url": "mysql://app@db/shop", **keys})


def connected(**fields: Any) -> MysqlFacts:
    values: dict[str, Any] = {
        "connected": True,
        "read_only": True,
        "server_version": "10.11.6",
        "flavour": "MariaDB",
    }
    return MysqlFacts(where=WHERE, latency_ms=3, **{**values, **fields})


def texts(check: MysqlCheck, facts: MysqlFacts, rule: str | None = None) -> list[str]:
    return [problem.text for problem in judge(check, facts, rule).problems]


def replica(**fields: Any) -> ReplicaStatus:
    values: dict[str, Any] = {
        "source": "primary:3306",
        "io_running": "Yes",
        "sql_running": "Yes",
        "lag_seconds": 2.0,
    }
    return ReplicaStatus(**{**values, **fields})


def test_a_healthy_replica_passes_and_shows_its_evidence() -> None:
    check = entry(
        expect_revision={"sql": REVISION_SQL, "equals": "0086"},
        max_connections_pct=80,
        max_query_seconds=60,
        max_replica_lag=30,
        queries={"pending-jobs": {"sql": "select count(*) from jobs", "max": 10}},
    )
    facts = connected(
        revision=QueryResult("0086", True),
        connections=5,
        max_connections=151,
        connections_pct=100 * 5 / 151,
        longest_query=ActiveQuery(42, "app", 3.0, "select 1"),
        replica_checked=True,
        replica=replica(),
        queries={"pending-jobs": QueryResult(3, True)},
    )
    assert judge(check, facts).passed
    assert judge(check, facts, "pending-jobs").passed
    assert judge(check, facts).evidence.splitlines() == [
        f"mysql {WHERE}: MariaDB 10.11.6, select 1 in 3 ms",
        "revision: 0086",
        "connections: 5/151 (3.3%)",
        "longest running query: 3s (id 42)",
        "replication: replica of primary:3306, io Yes, sql Yes, lag 2s",
    ]
    assert judge(check, facts, "pending-jobs").evidence.splitlines()[-1] == "query pending-jobs: 3"


def test_replica_lag_stopped_threads_and_unknown_lag() -> None:
    check = entry(max_replica_lag=30)
    assert texts(check, connected(replica_checked=True, replica=replica(lag_seconds=400.0))) == [
        "replica lag: expected <= 30s, got 6.7m behind primary:3306; look for long transactions on the primary "
        "or a slow replica (SHOW PROCESSLIST on it)"
    ]
    stopped = connected(
        replica_checked=True,
        replica=replica(io_running="Connecting", lag_seconds=None, last_error="error connecting to master"),
    )
    (problem,) = texts(check, stopped)
    assert problem.startswith(
        "replication: expected both threads running, got the replica's IO thread is not running "
        "(error connecting to master); look at SHOW REPLICA STATUS"
    )
    (problem,) = texts(check, connected(replica_checked=True, replica=replica(lag_seconds=None)))
    assert problem.startswith("replica lag: expected <= 30s, got unknown (Seconds_Behind_Source is NULL)")
    assert texts(check, connected(replica_checked=True)) == []  # a primary: nothing lags
    (problem,) = texts(
        check, connected(replica_error="query failed on db:3306/shop: Access denied (error 1227)")
    )
    assert problem.startswith("replication: could not read the replica status: query failed")


def test_connections_long_query_and_session() -> None:
    check = entry(max_connections_pct=50, max_query_seconds=10)
    facts = connected(
        connections=140,
        max_connections=151,
        connections_pct=100 * 140 / 151,
        longest_query=ActiveQuery(7, "app", 125.0, "select sleep(…)"),
        read_only=False,
    )
    session, connections, longest = texts(check, facts)
    assert session.startswith(f"session: the session on {WHERE} is not read-only")
    assert connections.startswith(
        "connections: expected <= 50%, got 140 of max_connections 151 in use (92.7%)"
    )
    assert longest.startswith("longest running query: expected <= 10s, got 2.1m: id 7, user app")
    assert "`KILL QUERY 7`" in longest
    assert texts(check, connected(activity_error="query failed: denied")) == [
        "connections: could not read the process list: query failed: denied",
        "longest running query: could not read the process list: query failed: denied",
    ]


def test_a_failed_connection_fails_every_check_of_the_entry() -> None:
    check = entry(queries={"pending-jobs": {"sql": "select 1", "max": 1}})
    facts = MysqlFacts(where=WHERE, error="connection refused by db:3306/shop (target unreachable: ...)")
    assert texts(check, facts) == ["connection refused by db:3306/shop (target unreachable: ...)"]
    assert texts(check, facts, "pending-jobs") == texts(check, facts)
    assert texts(check, connected(), "nope") == [
        "query nope: the entry has no such query (its queries: pending-jobs)"
    ]
    lost = connected(error="lost the connection to db:3306/shop: gone")
    assert texts(check, lost, "pending-jobs") == ["session: lost the connection to db:3306/shop: gone"]
    assert [phase.title() for phase in facts.phases()] == [
        "connect to db:3306/shop: connection refused by db:3306/shop (target unreachable: ...)"
    ]


def test_thresholds() -> None:
    check = entry(
        expect_revision={"sql": REVISION_SQL, "equals": "0086"},
        max_connections_pct=80,
        max_query_seconds=60,
        max_replica_lag="5m",
        queries={"pending-jobs": {"sql": "select 1", "max": 100}},
    )
    assert check.thresholds() == [
        'revision = "0086"',
        "connections <= 80%",
        "longest query <= 60s",
        "replica lag <= 300s (when a replica)",
    ]
    assert check.query_threshold("pending-jobs") == "query pending-jobs <= 100"


def test_both_replica_threads_stopped_without_an_error_are_one_problem() -> None:
    stopped = connected(replica_checked=True, replica=replica(io_running="No", sql_running="No"))
    assert judge(entry(max_replica_lag=30), stopped).problems == [
        Problem(
            "replication",
            "the replica's IO and SQL thread is not running",
            "both threads running",
            fix=REPLICA_FIX,
        )
    ]


def test_an_unknown_replica_lag_says_where_to_look() -> None:
    unknown = connected(replica_checked=True, replica=replica(lag_seconds=None))
    assert judge(entry(max_replica_lag=30), unknown).problems == [
        Problem("replica lag", "unknown (Seconds_Behind_Source is NULL)", "<= 30s", fix=REPLICA_FIX)
    ]


def test_a_refused_connection_is_the_connection_problem_and_a_lost_one_the_session_problem() -> None:
    refused = MysqlFacts(where=WHERE, error="connection refused by db:3306/shop")
    assert judge(entry(), refused).problems == [Problem("connection", "connection refused by db:3306/shop")]
    lost = connected(error="lost the connection to db:3306/shop: gone")
    assert judge(entry(), lost).problems == [Problem("session", "lost the connection to db:3306/shop: gone")]


def test_a_query_check_of_an_entry_without_queries_says_it_has_none() -> None:
    assert texts(entry(), connected(), "nope") == [
        "query nope: the entry has no such query (its queries: none)"
    ]


def test_a_query_the_probe_did_not_run_on_a_live_session_says_so() -> None:
    check = entry(queries={"pending-jobs": {"sql": "select 1", "max": 1}})
    assert judge(check, connected(), "pending-jobs").problems == [
        Problem("query pending-jobs", f"the probe did not run it on {WHERE}")
    ]


def test_the_revision_is_judged_only_when_asked_for_and_read() -> None:
    wanted = entry(expect_revision={"sql": REVISION_SQL, "equals": "0086"})
    assert judge(entry(), connected(revision=QueryResult("0085", True))).problems == []
    assert judge(wanted, connected()).problems == []
    assert texts(wanted, connected(revision=QueryResult("0085", True), read_only=False)) == [
        f"session: the session on {WHERE} is not read-only; opsverify refuses to run checks that could write",
        f'revision: expected "0086", got "0085" ({REVISION_SQL})',
    ]
