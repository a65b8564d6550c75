"""The postgres probe (and its verdict) against the real PostgreSQL: a throwaway database, a refused port, a
silent server, an invalid index."""

from __future__ import annotations

import contextlib
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from opsverify.kinds.base import ProbeContext
from opsverify.kinds.database_probe import query_excerpt
from opsverify.kinds.postgres.facts import PostgresFacts
from opsverify.kinds.postgres.model import PostgresCheck
from opsverify.kinds.postgres.probe import connect_readonly, describe_error, libpq_url, probe
from opsverify.kinds.postgres.verdict import judge
from tests.conftest import refused_port
from tests.kinds.database_probe import (
    assert_healthy_database_passes,
    assert_refused_fails_every_check,
    assert_wrong_revision_and_query_bounds_fail,
    long_query_problem,
    running_meanwhile,
)
from tests.probes.conftest import REVISION


def check(url: str, **keys: Any) -> tuple[PostgresCheck, PostgresFacts]:
    entry = PostgresCheck.model_validate({"url": url, "connect_timeout": 3, **keys})
    return entry, probe(entry, ProbeContext("test", Path.cwd()))


def problems(entry: PostgresCheck, facts: PostgresFacts, rule: str | None = None) -> list[str]:
    """The problems of the entry's own check, or of one named query's check, as the terminal shows them."""
    return [problem.text for problem in judge(entry, facts, rule).problems]


def test_healthy_database_with_every_expectation(pg_database: str) -> None:
    assert_healthy_database_passes(check, problems, pg_database, REVISION, True)


def test_wrong_revision_and_query_bounds_fail(pg_database: str) -> None:
    assert_wrong_revision_and_query_bounds_fail(check, problems, pg_database)


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
    assert problems(entry, facts) == []  # the entry's own check: the session is fine
    (write,) = problems(entry, facts, "write")
    assert write.startswith("query write: query on 127.0.0.1:5432/opsverify_test_live_")
    assert "tried to write (cannot execute INSERT in a read-only transaction)" in write
    assert "cancelled after statement_timeout 0.25s" in problems(entry, facts, "slow")[0]
    assert 'relation "jobz" does not exist (SQLSTATE 42P01)' in problems(entry, facts, "typo")[0]
    with psycopg.connect(pg_database) as conn:
        assert conn.execute("select count(*) from jobs where status = 'x'").fetchone() == (0,)


@pytest.fixture
def long_query(pg_database: str) -> Iterator[None]:
    """Another session running `select pg_sleep(...)` in the test database for a while."""
    conn = psycopg.connect(pg_database, autocommit=True)

    def sleep() -> None:
        with contextlib.suppress(psycopg.errors.QueryCanceled):
            conn.execute("select pg_sleep(30), 'literal-with-secret'")

    with running_meanwhile(sleep, conn.cancel_safe):
        yield
    conn.close()


def test_longest_query_and_connection_share(pg_database: str, long_query: None) -> None:
    longest, pid = long_query_problem(check, problems, pg_database, 1.2, "select pg_sleep(30), '…'")
    assert longest.startswith("longest active query: expected <= 1s, got 1.")
    assert f"pid {pid}, user postgres, \"select pg_sleep(30), '…'\"" in longest
    assert f"select pg_cancel_backend({pid})" in longest


def test_refused_port_and_unknown_database(pg_database: str) -> None:
    port = refused_port()
    url = f"postgresql://postgres:hunter2-canary@127.0.0.1:{port}/app"
    assert_refused_fails_every_check(check, problems, url, port, "PostgreSQL")
    url = pg_database.rsplit("/", 1)[0] + "/opsverify_no_such_db"
    _entry, facts = check(url)
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


def test_query_excerpt_masks_literals() -> None:
    assert query_excerpt("alter user app  password 'x''y'") == "alter user app password '…'"
    assert len(query_excerpt("select " + "x, " * 200)) == 160


@pytest.fixture
def invalid_index_database(pg_url: str) -> Iterator[str]:
    """A throwaway database where two CREATE UNIQUE INDEX CONCURRENTLY failed on duplicates, leaving invalid
    indexes behind (one outside the search_path), and one valid index."""
    name = f"opsverify_test_indexes_{secrets.token_hex(4)}"
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    url = pg_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("create schema billing")
            for table in ("clients", "billing.invoices"):
                conn.execute(f"create table {table} (id int primary key, email text)")
                conn.execute(f"insert into {table} values (1, 'a@example.com'), (2, 'a@example.com')")
            for index, table in (
                ("clients_email_key", "clients"),
                ("invoices_email_key", "billing.invoices"),
            ):
                with pytest.raises(psycopg.errors.UniqueViolation):
                    conn.execute(f"create unique index concurrently {index} on {table} (email)")
        yield url
    finally:
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(f'drop database if exists "{name}" with (force)')


def test_invalid_indexes_fail_with_their_names_and_the_fix(invalid_index_database: str) -> None:
    entry, facts = check(invalid_index_database, invalid_indexes=True)
    assert facts.invalid_indexes == ["billing.invoices_email_key", "clients_email_key"]
    assert problems(entry, facts) == [
        "invalid indexes: billing.invoices_email_key, clients_email_key; "
        "rebuild them with `REINDEX INDEX CONCURRENTLY <name>`"
    ]
    assert "invalid indexes (pg_index): billing.invoices_email_key, clients_email_key" in [
        phase.title() for phase in facts.phases()
    ]
    assert "invalid indexes: billing.invoices_email_key, clients_email_key" in judge(entry, facts).evidence
    entry, facts = check(invalid_index_database)  # opt-in: not looked at unless asked
    assert facts.invalid_indexes is None
    assert problems(entry, facts) == []


def test_no_invalid_indexes_passes(pg_database: str) -> None:
    entry, facts = check(pg_database, invalid_indexes=True)
    assert facts.invalid_indexes == []
    assert problems(entry, facts) == []
    assert "invalid indexes (pg_index): none" in [phase.title() for phase in facts.phases()]
