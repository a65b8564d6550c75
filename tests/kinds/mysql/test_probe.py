"""The mysql probe (and its verdict) against the real MySQL/MariaDB: a throwaway database, a refused port, a
silent server, a long query, a user with a password read from a file."""

from __future__ import annotations

import contextlib
import secrets
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pymysql
import pytest

from opsverify.kinds.base import ProbeContext
from opsverify.kinds.mysql.facts import MysqlFacts
from opsverify.kinds.mysql.model import MysqlCheck
from opsverify.kinds.mysql.probe import connect_readonly, describe_error, endpoint, probe
from opsverify.kinds.mysql.verdict import judge
from tests.conftest import RunResult, refused_port
from tests.kinds.database_probe import (
    assert_healthy_database_passes,
    assert_refused_fails_every_check,
    assert_wrong_revision_and_query_bounds_fail,
    long_query_problem,
    running_meanwhile,
)
from tests.mysql_server import REVISION, admin, with_database


def check(url: str, **keys: Any) -> tuple[MysqlCheck, MysqlFacts]:
    entry = MysqlCheck.model_validate({"url": url, "connect_timeout": 3, **keys})
    return entry, probe(entry, ProbeContext("test", Path.cwd()))


def problems(entry: MysqlCheck, facts: MysqlFacts, rule: str | None = None) -> list[str]:
    return [problem.text for problem in judge(entry, facts, rule).problems]


def test_healthy_database_with_every_expectation(mysql_database: str) -> None:
    facts = assert_healthy_database_passes(check, problems, mysql_database, REVISION, 1, max_replica_lag=30)
    assert isinstance(facts, MysqlFacts)
    assert facts.flavour in ("MariaDB", "MySQL")
    assert facts.statement_limit in ("max_statement_time", "max_execution_time")
    assert facts.replica_checked
    assert facts.replica is None  # the test server is a primary: nothing lags
    titles = [phase.title() for phase in facts.phases()]
    assert "replica status: not a replica" in titles
    assert "query pending-jobs: 3" in titles


def test_wrong_revision_and_query_bounds_fail(mysql_database: str) -> None:
    assert_wrong_revision_and_query_bounds_fail(check, problems, mysql_database)


def test_session_is_read_only_with_a_statement_limit(mysql_database: str) -> None:
    entry = MysqlCheck(url=mysql_database, statement_timeout=0.25)
    connection, _version, variable = connect_readonly(entry)
    with connection, connection.cursor() as cursor:
        cursor.execute(f"select @@session.{variable}")
        limit = cursor.fetchone()[0]
        assert float(limit) == (0.25 if variable == "max_statement_time" else 250)
        with pytest.raises(pymysql.MySQLError, match="READ ONLY"):
            cursor.execute("insert into jobs (status) values ('written')")
        with pytest.raises(pymysql.MySQLError) as cancelled:
            cursor.execute("select sleep(2) from jobs")  # MySQL limits only SELECTs, so the test uses one
        assert cancelled.value.args[0] in (1969, 3024)


def test_writes_and_sql_errors_become_query_errors(mysql_database: str) -> None:
    entry, facts = check(
        mysql_database,
        statement_timeout=0.25,
        queries={
            "write": {"sql": "insert into jobs (status) values ('x')", "min": 0},
            "ddl": {"sql": "create table evil (id int)", "min": 0},
            "slow": {"sql": "select sleep(2) from jobs", "min": 0},
            "typo": {"sql": "select count(*) from jobz", "min": 0},
        },
    )
    assert problems(entry, facts) == []  # the entry's own check: the session is fine
    where = endpoint(mysql_database).where
    (write,) = problems(entry, facts, "write")
    assert write.startswith(f"query write: query on {where} tried to write (")
    assert "checks run read-only: use a select" in write
    assert "tried to write" in problems(entry, facts, "ddl")[0]
    assert "cancelled after statement_timeout 0.25s" in problems(entry, facts, "slow")[0]
    assert "jobz' doesn't exist (error 1146)" in problems(entry, facts, "typo")[0]
    with admin(mysql_database) as conn, conn.cursor() as cursor:
        cursor.execute("select count(*) from jobs where status = 'x'")
        assert cursor.fetchone() == (0,)
        cursor.execute("show tables like 'evil'")
        assert cursor.fetchone() is None


@pytest.fixture
def long_query(mysql_database: str) -> Iterator[None]:
    """Another session running `select sleep(...)` for a while."""
    conn = admin(mysql_database)

    def sleep() -> None:
        with contextlib.suppress(pymysql.MySQLError), conn.cursor() as cursor:
            cursor.execute("select sleep(30), 'literal-with-secret'")

    def kill() -> None:
        with admin(mysql_database) as killer, killer.cursor() as cursor:
            cursor.execute(f"kill query {conn.thread_id()}")

    with running_meanwhile(sleep, kill):
        yield
    conn.close()


def test_longest_query_and_connection_share(mysql_database: str, long_query: None) -> None:
    longest, pid = long_query_problem(check, problems, mysql_database, 2.2, "select sleep(30), '…'")
    assert longest.startswith("longest running query: expected <= 1s, got ")
    assert f"id {pid}, user root, \"select sleep(30), '…'\"" in longest
    assert f"KILL QUERY {pid}" in longest


def test_refused_port_unknown_database_and_bad_password(mysql_url: str) -> None:
    port = refused_port()
    url = f"mysql://app:hunter2-canary@127.0.0.1:{port}/app"
    assert_refused_fails_every_check(check, problems, url, port, "MySQL/MariaDB")
    _entry, facts = check(with_database(mysql_url, "opsverify_no_such_db"))
    assert facts.error is not None
    assert facts.error.startswith("Unknown database 'opsverify_no_such_db' on ")
    assert facts.error.endswith("; check the database name at the end of the URL")
    target = endpoint(mysql_url)
    _entry, facts = check(f"mysql://opsverify_nobody:hunter5-canary@{target.host}:{target.port}/")
    assert facts.error is not None
    assert facts.error.startswith(f"authentication failed on {target.host}:{target.port}/: Access denied")
    assert "hunter5" not in facts.error


def test_connect_timeout() -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        _entry, facts = check(f"mysql://root@127.0.0.1:{port}/app", connect_timeout=1)
    assert facts.error == f"connect to 127.0.0.1:{port}/app timed out after 1s"


def test_passwords_never_reach_messages() -> None:
    entry = MysqlCheck(url="mysql://app@127.0.0.1/app", password="s3cr3t-hunter4")
    fake = pymysql.err.OperationalError(1045, "Access denied for user 'app' (password s3cr3t-hunter4)")
    message = describe_error(fake, entry, "127.0.0.1:3306/app", connecting=True)
    assert message.startswith("authentication failed on 127.0.0.1:3306/app: Access denied")
    assert "hunter4" not in message


def test_url_forms_and_bad_values() -> None:
    target = endpoint("mysql+pymysql://app:p%40ss@db.internal:3307/shop?unix_socket=/run/mysqld/mysqld.sock")
    assert (target.host, target.port, target.user, target.password, target.database) == (
        "db.internal",
        3307,
        "app",
        "p@ss",
        "shop",
    )
    assert target.where == "/run/mysqld/mysqld.sock/shop"
    assert endpoint("mariadb://h/x", password="pw").password == "pw"
    with pytest.raises(ValueError, match="keep one of them"):
        MysqlCheck(url="mysql://u:pw1@h/db", password="pw2")
    with pytest.raises(
        ValueError, match=r"expected a mysql:// \(or mariadb://\) URL, got a postgresql:// URL"
    ):
        MysqlCheck(url="postgresql://u@h/db")
    with pytest.raises(ValueError, match="invalid URL"):
        MysqlCheck(url="mysql://u@h:port/db")


@pytest.fixture
def app_user(mysql_database: str) -> Iterator[tuple[str, str]]:
    """A user with a password, allowed to read the test database: (name, password)."""
    name, password = f"ov_{secrets.token_hex(3)}", f"canary-{secrets.token_hex(8)}"
    database = endpoint(mysql_database).database
    with admin(mysql_database) as conn, conn.cursor() as cursor:
        cursor.execute(f"create user '{name}'@'%%' identified by %s", (password,))
        cursor.execute(f"grant select, process on *.* to '{name}'@'%'")
        cursor.execute(f"grant all on `{database}`.* to '{name}'@'%'")
    yield name, password
    with admin(mysql_database) as conn, conn.cursor() as cursor:
        cursor.execute(f"drop user '{name}'@'%'")


def test_end_to_end_with_a_password_file_and_a_password_in_the_url(
    mysql_database: str, app_user: tuple[str, str], run_checks: Callable[..., RunResult], tmp_path: Path
) -> None:
    user, password = app_user
    target = endpoint(mysql_database)
    (tmp_path / "db-password").write_text(password + "\n")
    address = f"{target.host}:{target.port}/{target.database}"
    result = run_checks(
        f"""
target: shop
mysql:
  main:
    url: mysql://{user}@{address}
    password_file: db-password
    expect_revision: {{sql: "select version_num from alembic_version", equals: "{REVISION}"}}
    max_connections_pct: 95
    queries:
      pending-jobs: {{sql: "select count(*) from jobs where status = 'pending'", max: 2}}
  literal:
    url: mysql://{user}:{password}@{address}
    queries:
      wrong: {{sql: "select '{password}' = 'x'", equals: 1}}
""",
        "-m",
        "smoke",
    )
    assert result.returncode == 1, result.output
    assert "4 checks: 2 passed, 2 failed" in result.output  # mysql:main and mysql:literal pass
    assert (
        "FAILED mysql:main/pending-jobs (normal): query pending-jobs: expected <= 2, got 3" in result.output
    )
    assert (
        "FAILED mysql:literal/wrong (normal): query wrong: expected 1, got 0 (select '***' = 'x')"
        in result.output
    )
    assert password not in result.output
    files = result.files_text()
    assert password not in files
    assert "expected 1, got 0 (select '***' = 'x')" in files  # the reports hold the query, redacted
