"""Verdict of `mysql:` checks. The entry's own check (`mysql:main`): the connection, a read-only session, the
revision, connections in use, the longest running query, the replica lag when the server is a replica. Each
named query is a check of its own (`mysql:main/pending-jobs`), judged with the one comparator; when the
connection failed, it fails with the connection's problem."""

from __future__ import annotations

from opsverify.kinds.database_verdict import ServerFixes, judge_server
from opsverify.kinds.mysql.facts import MysqlFacts
from opsverify.kinds.mysql.model import MysqlCheck
from opsverify.problem import Judgement, Problem
from opsverify.units import bound, format_duration

FIXES = ServerFixes(
    connections="look for sleeping or leaked sessions in SHOW PROCESSLIST, size the application's pool, or raise max_connections",
    stuck_query="inspect it in SHOW PROCESSLIST and stop it with `KILL QUERY {pid}` if it is stuck",
)
REPLICA_FIX = "look at SHOW REPLICA STATUS (Last_IO_Error, Last_SQL_Error) and restart it with START REPLICA"


def judge(entry: MysqlCheck, facts: MysqlFacts, rule: str | None = None) -> Judgement:
    """Problems of `facts` against `entry`: the entry's own options, or only the named query `rule`."""
    return judge_server(entry, facts, rule, FIXES, lambda: _replica_problems(facts, entry.max_replica_lag))


def _replica_problems(facts: MysqlFacts, limit: float | None) -> list[Problem]:
    if limit is None:
        return []
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
