"""Verdict of `postgres:` checks. The entry's own check (`postgres:main`): the connection, a read-only session,
the revision, connections in use, the longest active query, invalid indexes. Each named query is a check of its
own (`postgres:main/pending-jobs`), judged with the one comparator; when the connection failed, it fails with
the connection's problem. The evidence is the session and what the check looked at."""

from __future__ import annotations

from opsverify.kinds.database_verdict import ServerFixes, judge_server
from opsverify.kinds.postgres.facts import PostgresFacts
from opsverify.kinds.postgres.model import PostgresCheck
from opsverify.problem import Judgement, Problem

FIXES = ServerFixes(
    connections="look for idle or leaked sessions in pg_stat_activity, size the application's pool, or raise max_connections",
    stuck_query=(
        "inspect it in pg_stat_activity and cancel it with `select pg_cancel_backend({pid})` if it is stuck"
    ),
)
INVALID_INDEXES_FIX = "rebuild them with `REINDEX INDEX CONCURRENTLY <name>`"


def judge(entry: PostgresCheck, facts: PostgresFacts, rule: str | None = None) -> Judgement:
    """Problems of `facts` against `entry`: the entry's own options, or only the named query `rule`."""
    return judge_server(entry, facts, rule, FIXES, lambda: _invalid_index_problems(entry, facts))


def _invalid_index_problems(entry: PostgresCheck, facts: PostgresFacts) -> list[Problem]:
    if not entry.invalid_indexes:
        return []
    if facts.invalid_indexes_error:
        return [Problem("invalid indexes", f"could not read pg_index: {facts.invalid_indexes_error}")]
    if not facts.invalid_indexes:
        return []
    return [Problem("invalid indexes", facts.invalid_index_names(), fix=INVALID_INDEXES_FIX)]
