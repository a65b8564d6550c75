"""Verdict of `mysql:` checks. The entry's own check (`mysql:main`): the connection, a read-only session, the
revision, connections in use, the longest running query, the replica lag when the server is a replica. Each
named query is a check of its own (`mysql:main/pending-jobs`), judged with the one comparator; when the
connection failed, it fails with the connection's problem."""

from __future__ import annotations

from opsverify.comparison import compare
from opsverify.kinds.database_verdict import judge_query, session_problem
from opsverify.kinds.mysql.facts import MysqlFacts
from opsverify.kinds.mysql.model import MysqlCheck
from opsverify.problem import Judgement, Problem
from opsverify.units import bound, format_duration

CONNECTIONS_FIX = "look for sleeping or leaked sessions in SHOW PROCESSLIST, size the application's pool, or raise max_connections"
REPLICA_FIX = "look at SHOW REPLICA STATUS (Last_IO_Error, Last_SQL_Error) and restart it with START REPLICA"


def judge(entry: MysqlCheck, facts: MysqlFacts, rule: str | None = None) -> Judgement:
    """Problems of `facts` against `entry`: the entry's own options, or only the named query `rule`."""
    if rule is not None:
        return judge_query(entry.queries, facts, rule)
    if facts.error:
        return Judgement([session_problem(facts)])
    problems = []
    if not facts.read_only:
        problems.append(
            Problem(
                "session",
                f"the session on {facts.where} is not read-only",
                fix="opsverify refuses to run checks that could write",
            )
        )
    if entry.expect_revision is not None and facts.revision is not None:
        revision = facts.revision
        problems += compare(
            "revision", entry.expect_revision, revision.value, found=revision.found, error=revision.error
        )
    if entry.max_connections_pct is not None:
        problems += _connection_problems(facts, entry.max_connections_pct)
    if entry.max_query_seconds is not None:
        problems += _long_query_problems(facts, entry.max_query_seconds)
    if entry.max_replica_lag is not None:
        problems += _replica_problems(facts, entry.max_replica_lag)
    return Judgement(problems, facts.summary())


def _connection_problems(facts: MysqlFacts, limit: float) -> list[Problem]:
    if facts.activity_error or facts.connections_pct is None:
        return [Problem("connections", f"could not read the process list: {facts.activity_error}")]
    if facts.connections_pct <= limit:
        return []
    found = f"{facts.connections} of max_connections {facts.max_connections} in use ({facts.connections_pct:.1f}%)"
    return [Problem("connections", found, bound("max", limit, "%"), fix=CONNECTIONS_FIX)]


def _long_query_problems(facts: MysqlFacts, limit: float) -> list[Problem]:
    if facts.activity_error:
        return [Problem("longest running query", f"could not read the process list: {facts.activity_error}")]
    longest = facts.longest_query
    if longest is None or longest.seconds <= limit:
        return []
    return [
        Problem(
            "longest running query",
            f"{format_duration(longest.seconds)}: id {longest.pid}, user {longest.user}, {longest.query!r}",
            bound("max", limit, "s"),
            fix=f"inspect it in SHOW PROCESSLIST and stop it with `KILL QUERY {longest.pid}` if it is stuck",
        )
    ]


def _replica_problems(facts: MysqlFacts, limit: float) -> list[Problem]:
    if facts.replica_error:
        return [Problem("replication", f"could not read the replica status: {facts.replica_error}")]
    replica = facts.replica
    if not facts.replica_checked or replica is None:
        return []  # not a replica: nothing lags
    stopped = [
        name for name, state in (("IO", replica.io_running), ("SQL", replica.sql_running)) if state != "Yes"
    ]
    if stopped:
        error = f" ({replica.last_error})" if replica.last_error else ""
        found = f"the replica's {' and '.join(stopped)} thread is not running{error}"
        return [Problem("replication", found, "both threads running", fix=REPLICA_FIX)]
    if replica.lag_seconds is None:
        return [
            Problem(
                "replica lag",
                "unknown (Seconds_Behind_Source is NULL)",
                bound("max", limit, "s"),
                fix=REPLICA_FIX,
            )
        ]
    if replica.lag_seconds <= limit:
        return []
    return [
        Problem(
            "replica lag",
            f"{format_duration(replica.lag_seconds)} behind {replica.source}",
            bound("max", limit, "s"),
            fix="look for long transactions on the primary or a slow replica (SHOW PROCESSLIST on it)",
        )
    ]
