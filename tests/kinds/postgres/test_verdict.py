"""The postgres verdict from constructed facts (no server): each problem of the entry's own check and of a named
query's check, the evidence, and passing cases."""

from __future__ import annotations

from typing import Any

from opsverify.kinds.postgres.facts import ActiveQuery, PostgresFacts, QueryResult
from opsverify.kinds.postgres.model import PostgresCheck
from opsverify.kinds.postgres.verdict import judge

WHERE = "db:5432/app"
REVISION_SQL = "select version_num from alembic_version"


def entry(**keys: Any) -> PostgresCheck:
    return PostgresCheck.model_validate({"url": "postgresql://app@db/app", **keys})


def connected(**fields: Any) -> PostgresFacts:
    return PostgresFacts(
        where=WHERE, connected=True, read_only=True, server_version="16.4", latency_ms=3, **fields
    )


def texts(check: PostgresCheck, facts: PostgresFacts, rule: str | None = None) -> list[str]:
    return [problem.text for problem in judge(check, facts, rule).problems]


QUERIES = {
    "pending-jobs": {"sql": "select count(*) from jobs", "max": 10},
    "status": {"sql": "select status from health", "equals": "ok"},
}


def test_a_healthy_database_passes_every_check() -> None:
    check = entry(
        expect_revision={"sql": REVISION_SQL, "equals": "0086"},
        max_connections_pct=80,
        max_query_seconds=60,
        invalid_indexes=True,
        queries=QUERIES,
    )
    facts = connected(
        revision=QueryResult("0086", True),
        connections=5,
        max_connections=100,
        connections_pct=5.0,
        longest_query=ActiveQuery(42, "app", 3.0, "select 1"),
        invalid_indexes=[],
        queries={"pending-jobs": QueryResult(3, True), "status": QueryResult("ok", True)},
    )
    for rule in (None, "pending-jobs", "status"):
        assert judge(check, facts, rule).passed
    assert judge(check, facts).evidence.splitlines() == [
        f"postgres {WHERE}: PostgreSQL 16.4, select 1 in 3 ms",
        "revision: 0086",
        "connections: 5/100 (5.0%)",
        "longest active query: 3.0s (pid 42)",
    ]


def test_refused_connection_fails_the_entry_and_each_query_with_no_evidence() -> None:
    check = entry(queries=QUERIES)
    facts = PostgresFacts(where=WHERE, error=f"connection refused by {WHERE} (target unreachable: ...)")
    refused = [f"connection refused by {WHERE} (target unreachable: ...)"]
    for rule in (None, "pending-jobs", "status"):
        judgement = judge(check, facts, rule)
        assert [p.text for p in judgement.problems] == refused
        assert judgement.evidence == ""


def test_a_session_lost_midway_fails_the_queries_it_did_not_reach() -> None:
    check = entry(queries=QUERIES)
    lost = f"lost the connection to {WHERE}: server closed the connection unexpectedly"
    facts = connected(queries={"pending-jobs": QueryResult(3, True)}, error=lost)
    assert texts(check, facts) == [f"session: {lost}"]
    assert texts(check, facts, "pending-jobs") == []  # it ran before the session was lost
    assert texts(check, facts, "status") == [f"session: {lost}"]


def test_a_session_that_is_not_read_only_fails_the_entry() -> None:
    facts = connected()
    facts.read_only = False
    assert texts(entry(), facts) == [
        f"session: the session on {WHERE} is not read-only; opsverify refuses to run checks that could write"
    ]


def test_revision_wrong_missing_or_failing() -> None:
    check = entry(expect_revision={"sql": REVISION_SQL, "equals": "0087"})
    assert texts(check, connected(revision=QueryResult("0086", True))) == [
        f'revision: expected "0087", got "0086" ({REVISION_SQL})'
    ]
    assert texts(check, connected(revision=QueryResult())) == [
        f'revision: expected = "0087", got no rows ({REVISION_SQL})'
    ]
    failed = QueryResult(error='query failed on db:5432/app: relation "alembic_version" does not exist')
    assert texts(check, connected(revision=failed)) == [
        'revision: query failed on db:5432/app: relation "alembic_version" does not exist; '
        f"the query was {REVISION_SQL}"
    ]


def test_connections_over_the_limit_or_unreadable() -> None:
    check = entry(max_connections_pct=80)
    facts = connected(connections=90, max_connections=100, connections_pct=90.0)
    assert texts(check, facts) == [
        "connections: expected <= 80%, got 90 of max_connections 100 in use (90.0%); look for idle or leaked "
        "sessions in pg_stat_activity, size the application's pool, or raise max_connections"
    ]
    facts = connected(activity_error="permission denied for view pg_stat_activity")
    assert texts(check, facts) == [
        "connections: could not read pg_stat_activity: permission denied for view pg_stat_activity"
    ]


def test_a_long_query_names_its_pid_and_how_to_cancel_it() -> None:
    check = entry(max_query_seconds=60)
    facts = connected(longest_query=ActiveQuery(4242, "report", 125.0, "select * from big where x = '…'"))
    assert texts(check, facts) == [
        "longest active query: expected <= 60s, got 2.1m: pid 4242, user report, "
        "\"select * from big where x = '…'\"; inspect it in pg_stat_activity and cancel it with "
        "`select pg_cancel_backend(4242)` if it is stuck"
    ]
    assert texts(check, connected(activity_error="timeout")) == [
        "longest active query: could not read pg_stat_activity: timeout"
    ]
    facts = connected(longest_query=ActiveQuery(1, "app", 59.0, "select 1"))
    assert texts(check, facts) == []


def test_invalid_indexes_are_listed_with_the_fix_only_when_asked() -> None:
    facts = connected(invalid_indexes=["billing.invoices_email_key", "clients_email_key"])
    assert texts(entry(invalid_indexes=True), facts) == [
        "invalid indexes: billing.invoices_email_key, clients_email_key; "
        "rebuild them with `REINDEX INDEX CONCURRENTLY <name>`"
    ]
    assert texts(entry(), facts) == []  # opt-in
    many = connected(invalid_indexes=[f"idx_{n:02}" for n in range(25)])
    (problem,) = texts(entry(invalid_indexes=True), many)
    assert problem.startswith("invalid indexes: idx_00, idx_01, ")
    assert "idx_19, … (25 in all); rebuild them" in problem
    assert "idx_20" not in problem
    unreadable = connected(invalid_indexes_error="query failed on db:5432/app: permission denied")
    assert texts(entry(invalid_indexes=True), unreadable) == [
        "invalid indexes: could not read pg_index: query failed on db:5432/app: permission denied"
    ]


def test_each_named_query_is_judged_on_its_own_with_its_evidence() -> None:
    check = entry(max_connections_pct=80, queries=QUERIES)
    facts = connected(
        connections=5,
        max_connections=100,
        connections_pct=5.0,
        queries={"pending-jobs": QueryResult(12, True), "status": QueryResult("ok", True)},
    )
    assert texts(check, facts) == []  # the entry's own check does not judge its queries
    judgement = judge(check, facts, "pending-jobs")
    assert [p.text for p in judgement.problems] == [
        "query pending-jobs: expected <= 10, got 12 (select count(*) from jobs)"
    ]
    assert judgement.evidence.splitlines() == [
        f"postgres {WHERE}: PostgreSQL 16.4, select 1 in 3 ms",
        "query pending-jobs: 12",
    ]
    assert texts(check, facts, "status") == []


def test_query_values_of_the_wrong_kind_no_rows_and_errors() -> None:
    check = entry(queries=QUERIES)
    facts = connected(queries={"pending-jobs": QueryResult("many", True), "status": QueryResult(found=False)})
    assert texts(check, facts, "pending-jobs") == [
        'query pending-jobs: expected a number, got "many" (select count(*) from jobs)'
    ]
    assert texts(check, facts, "status") == [
        'query status: expected = "ok", got no rows (select status from health)'
    ]
    slow = f"query on {WHERE} cancelled after statement_timeout 30s; make it cheaper or raise `statement_timeout:`"
    facts = connected(queries={"pending-jobs": QueryResult(error=slow), "status": QueryResult("down", True)})
    judgement = judge(check, facts, "pending-jobs")
    assert [p.text for p in judgement.problems] == [
        f"query pending-jobs: {slow}; the query was select count(*) from jobs"
    ]
    assert judgement.evidence == ""  # the problem already says what happened
    assert texts(check, facts, "status") == [
        'query status: expected "ok", got "down" (select status from health)'
    ]


def test_a_rule_the_entry_does_not_have() -> None:
    assert texts(entry(queries=QUERIES), connected(), "gone") == [
        "query gone: the entry has no such query (its queries: pending-jobs, status)"
    ]
