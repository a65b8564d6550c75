"""Verdict of `postgres:` checks. The entry's own check (`postgres:main`): the connection, a read-only session,
the revision, connections in use, the longest active query, invalid indexes. Each named query is a check of its
own (`postgres:main/pending-jobs`), judged with the one comparator; when the connection failed, it fails with
the connection's problem. The evidence is the session and what the check looked at."""

from __future__ import annotations

from opsverify.comparison import compare
from opsverify.kinds.database_verdict import judge_query, session_problem
from opsverify.kinds.postgres.facts import PostgresFacts
from opsverify.kinds.postgres.model import PostgresCheck
from opsverify.problem import Judgement, Problem
from opsverify.units import bound, format_duration

CONNECTIONS_FIX = "look for idle or leaked sessions in pg_stat_activity, size the application's pool, or raise max_connections"
INVALID_INDEXES_FIX = "rebuild them with `REINDEX INDEX CONCURRENTLY <name>`"


def judge(entry: PostgresCheck, facts: PostgresFacts, rule: str | None = None) -> Judgement:
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
    if entry.invalid_indexes:
        problems += _invalid_index_problems(facts)
    return Judgement(problems, facts.summary())


def _connection_problems(facts: PostgresFacts, limit: float) -> list[Problem]:
    if facts.activity_error or facts.connections_pct is None:
        return [Problem("connections", f"could not read pg_stat_activity: {facts.activity_error}")]
    if facts.connections_pct <= limit:
        return []
    found = f"{facts.connections} of max_connections {facts.max_connections} in use ({facts.connections_pct:.1f}%)"
    return [Problem("connections", found, bound("max", limit, "%"), fix=CONNECTIONS_FIX)]


def _long_query_problems(facts: PostgresFacts, limit: float) -> list[Problem]:
    if facts.activity_error:
        return [Problem("longest active query", f"could not read pg_stat_activity: {facts.activity_error}")]
    longest = facts.longest_query
    if longest is None or longest.seconds <= limit:
        return []
    return [
        Problem(
            "longest active query",
            f"{format_duration(longest.seconds)}: pid {longest.pid}, user {longest.user}, {longest.query!r}",
            bound("max", limit, "s"),
            fix=(
                f"inspect it in pg_stat_activity and cancel it with `select pg_cancel_backend({longest.pid})` "
                "if it is stuck"
            ),
        )
    ]


def _invalid_index_problems(facts: PostgresFacts) -> list[Problem]:
    if facts.invalid_indexes_error:
        return [Problem("invalid indexes", f"could not read pg_index: {facts.invalid_indexes_error}")]
    if not facts.invalid_indexes:
        return []
    return [Problem("invalid indexes", facts.invalid_index_names(), fix=INVALID_INDEXES_FIX)]
