"""The postgres probe against the real PostgreSQL: a throwaway database, a refused port, a silent server."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from opsverify.config.postgres import PostgresCheck, values_equal
from opsverify.probes.base import ProbeContext
from opsverify.probes.postgres import (
    PostgresFacts,
    connect_readonly,
    describe_error,
    libpq_url,
    probe,
    query_excerpt,
)
from tests.conftest import refused_port
from tests.probes.conftest import REVISION


def check(url: str, **keys: Any) -> tuple[PostgresCheck, PostgresFacts]:
    entry = PostgresCheck.model_validate({"url": url, "connect_timeout": 3, **keys})
    return entry, probe(entry, ProbeContext("test", Path.cwd()))


def test_healthy_database_with_every_expectation(pg_database: str) -> None:
    entry, facts = check(
        pg_database,
        expect_revision={"sql": "select version_num from alembic_version", "equals": REVISION},
        max_connections_pct=100,
        max_query_seconds=60,
        queries={
            "pending-jobs": {
                "sql": "select count(*) from jobs where status = 'pending'",
                "equals": 3,
                "max": 10,
            },
            "has-jobs": {"sql": "select exists(select 1 from jobs)", "equals": True},
        },
    )
    assert entry.mismatches(facts) == [], facts.summary()
    assert facts.connected
    assert facts.read_only
    assert facts.revision is not None
    assert facts.revision.value == REVISION
    assert facts.queries["pending-jobs"].value == 3
    assert facts.connections is not None
    assert facts.connections >= 1
    assert facts.max_connections is not None
    assert facts.max_connections > 1


def test_wrong_revision_and_query_bounds_fail(pg_database: str) -> None:
    entry, facts = check(
        pg_database,
        expect_revision={"sql": "select version_num from alembic_version", "equals": "0087"},
        queries={
            "pending-jobs": {"sql": "select count(*) from jobs", "max": 2},
            "done-jobs": {"sql": "select count(*) from jobs where status = 'done'", "min": 1},
            "none": {"sql": "select id from jobs where false", "equals": 1},
            "text": {"sql": "select 'abc'", "min": 1},
        },
    )
    assert entry.mismatches(facts) == [
        'revision: expected "0087", got "0086" (select version_num from alembic_version)',
        "query pending-jobs: expected <= 2, got 3 (select count(*) from jobs)",
        "query done-jobs: expected >= 1, got 0 (select count(*) from jobs where status = 'done')",
        "query none: the query returned no rows, expected = 1 (select id from jobs where false)",
        "query text: expected a number, got \"abc\" (select 'abc')",
    ]


def test_session_is_read_only_with_a_statement_timeout(pg_database: str) -> None:
    entry = PostgresCheck(url=pg_database, statement_timeout=0.25)
    with connect_readonly(entry) as connection:
        assert connection.execute("show default_transaction_read_only").fetchone() == ("on",)
        assert connection.execute("show statement_timeout").fetchone() == ("250ms",)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            connection.execute("insert into jobs (status) values ('written')")
        connection.rollback()
        with pytest.raises(psycopg.errors.QueryCanceled):
            connection.execute("select pg_sleep(2)")


def test_writes_and_sql_errors_become_query_errors(pg_database: str) -> None:
    entry, facts = check(
        pg_database,
        statement_timeout=0.25,
        queries={
            "write": {"sql": "insert into jobs (status) values ('x') returning id", "min": 0},
            "slow": {"sql": "select pg_sleep(2)", "min": 0},
            "typo": {"sql": "select count(*) from jobz", "min": 0},
        },
    )
    problems = entry.mismatches(facts)
    assert problems[0].startswith("query write: query on 127.0.0.1:5432/opsverify_test_live_")
    assert "tried to write (cannot execute INSERT in a read-only transaction)" in problems[0]
    assert "cancelled after statement_timeout 0.25s" in problems[1]
    assert 'relation "jobz" does not exist (SQLSTATE 42P01)' in problems[2]
    with psycopg.connect(pg_database) as conn:
        assert conn.execute("select count(*) from jobs where status = 'x'").fetchone() == (0,)


@pytest.fixture
def long_query(pg_database: str) -> Iterator[None]:
    """Another session running `select pg_sleep(...)` in the test database for a while."""
    ready = threading.Event()
    conn = psycopg.connect(pg_database, autocommit=True)

    def sleep() -> None:
        ready.set()
        with contextlib.suppress(psycopg.errors.QueryCanceled):
            conn.execute("select pg_sleep(30), 'literal-with-secret'")

    thread = threading.Thread(target=sleep)
    thread.start()
    ready.wait()
    yield
    conn.cancel_safe()
    thread.join()
    conn.close()


def test_longest_query_and_connection_share(pg_database: str, long_query: None) -> None:
    import time

    time.sleep(1.2)
    entry, facts = check(pg_database, max_query_seconds=1, max_connections_pct=0.1)
    assert facts.longest_query is not None
    assert facts.longest_query.seconds >= 1
    assert facts.longest_query.query == "select pg_sleep(30), '…'"
    connections, longest = entry.mismatches(facts)
    assert connections.startswith(f"connections: {facts.connections} of max_connections")
    assert "expected <= 0.1%" in connections
    assert longest.startswith("longest active query has run 1.")
    assert f"select pg_cancel_backend({facts.longest_query.pid})" in longest


def test_refused_port_and_unknown_database(pg_database: str) -> None:
    port = refused_port()
    entry, facts = check(f"postgresql://postgres:hunter2-canary@127.0.0.1:{port}/app")
    assert entry.mismatches(facts) == [
        f"connection refused by 127.0.0.1:{port}/app (target unreachable: is PostgreSQL running and listening?)"
    ]
    url = pg_database.rsplit("/", 1)[0] + "/opsverify_no_such_db"
    entry, facts = check(url)
    assert facts.error == (
        'database "opsverify_no_such_db" does not exist on 127.0.0.1:5432/opsverify_no_such_db; '
        "check the database name at the end of the URL"
    )


def test_connect_timeout() -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        _entry, facts = check(f"postgresql://postgres@127.0.0.1:{port}/app", connect_timeout=1)
    assert facts.error == f"connect to 127.0.0.1:{port}/app timed out after 2s"


def test_passwords_never_reach_messages() -> None:
    entry = PostgresCheck(url="postgresql+psycopg://app:pw%ZZ-hunter3@127.0.0.1:1/app")
    facts = probe(entry, ProbeContext("test"))
    assert facts.error is not None
    assert facts.error.startswith("invalid PostgreSQL URL")
    assert "hunter3" not in facts.error
    entry = PostgresCheck(url="postgresql://app@127.0.0.1/app", password="s3cr3t-hunter4")
    fake = psycopg.OperationalError(
        'connection failed: connection to server at "127.0.0.1", port 5432 failed: '
        'FATAL:  password authentication failed for user "app" (password=s3cr3t-hunter4)'
    )
    message = describe_error(fake, entry, "127.0.0.1:5432/app", connecting=True)
    assert message.startswith("authentication failed on 127.0.0.1:5432/app: password authentication failed")
    assert "hunter4" not in message


def test_url_and_password_field() -> None:
    assert libpq_url("postgresql+psycopg://u@h/db") == "postgresql://u@h/db"
    assert libpq_url("postgres://u@h/db") == "postgres://u@h/db"
    with pytest.raises(ValueError, match="keep one of them"):
        PostgresCheck(url="postgresql://u:pw1@h/db", password="pw2")
    with pytest.raises(ValueError, match="expected a postgresql:// URL"):
        PostgresCheck(url="mysql://u@h/db")


@pytest.mark.parametrize(
    ("actual", "wanted", "equal"),
    [("0086", "0086", True), (86, "86", True), ("0086", 86, False), (3, 3.0, True), (True, True, True),
     (1, True, False), ("t", "t", True)],
)  # fmt: skip
def test_values_equal(actual: Any, wanted: Any, equal: bool) -> None:
    assert values_equal(actual, wanted) is equal


def test_query_excerpt_masks_literals() -> None:
    assert query_excerpt("alter user app  password 'x''y'") == "alter user app password '…'"
    assert len(query_excerpt("select " + "x, " * 200)) == 160
