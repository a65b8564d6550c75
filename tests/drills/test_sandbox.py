"""Drill databases and safety: only opsverify_drill_* are dropped, old leftovers reaped, production refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg import sql

from opsverify.drills.choose import UrlSandbox
from opsverify.drills.sandbox import (
    DrillDatabase,
    SandboxRefused,
    ServerAddress,
    admin_connect,
    client_environment,
    drill_database_age,
    drop_drill_database,
    is_drill_database,
    new_drill_database_name,
    reap,
    refuse_production,
    with_database,
)
from tests.backups.pgdumps import database_exists, drop_database, unique_name


def test_names_carry_their_creation_time() -> None:
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    name = new_drill_database_name(now)
    assert name.startswith("opsverify_drill_20260102030405_")
    assert is_drill_database(name)
    assert drill_database_age(name, now + timedelta(hours=2)) == 7200
    for other in (
        "shop",
        "opsverify_drill_",
        "opsverify_drill_2026_abcdef",
        "xopsverify_drill_20260102030405_abcdef",
    ):
        assert not is_drill_database(other)
        assert drill_database_age(other) is None


def test_drop_refuses_anything_but_drill_databases(pg_url: str) -> None:
    with (
        admin_connect(pg_url) as connection,
        pytest.raises(SandboxRefused, match="refusing to drop 'postgres'"),
    ):
        drop_drill_database(connection, "postgres")


def test_create_and_drop(pg_url: str) -> None:
    database = DrillDatabase(UrlSandbox(pg_url))
    database.create()
    try:
        assert database_exists(database.name)
        with psycopg.connect(database.url, connect_timeout=10) as connection:
            assert connection.execute("select current_database()").fetchone() == (database.name,)
    finally:
        assert database.drop() is None
    assert not database_exists(database.name)
    assert database.drop() is None  # idempotent


def test_reap_drops_only_old_drill_databases(pg_url: str) -> None:
    # reaped past 3 hours: other processes' drills on the same server (xdist workers, other sessions) reap
    # past a day only, so they leave these two to this test
    old = new_drill_database_name(datetime.now(UTC) - timedelta(hours=4))
    recent = new_drill_database_name(datetime.now(UTC) - timedelta(hours=2))
    bystander = unique_name("opsverify_drill_keep")  # prefix alike, but not a drill name
    with admin_connect(pg_url) as connection:
        for name in (old, recent, bystander):
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            reaped = reap(connection, older_than=3 * 3600)
            assert old in reaped
            assert recent not in reaped
            assert not database_exists(old)
            assert database_exists(recent)
            assert database_exists(bystander)
        finally:
            for name in (old, recent, bystander):
                drop_database(name)


def test_reaping_happens_when_a_drill_creates_its_database(pg_url: str) -> None:
    old = new_drill_database_name(datetime.now(UTC) - timedelta(days=3))
    with admin_connect(pg_url) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(old)))
    database = DrillDatabase(UrlSandbox(pg_url))
    try:
        database.create()
        # Gone: reaped by this drill's create, or (pytest-xdist, other sessions on the same server) by another
        # process's drill just before, when `reaped` does not list it. Without reaping it would stay.
        assert not database_exists(old)
        assert database.name not in database.reaped
    finally:
        database.drop()
        drop_database(old)


def test_server_address_normalises_loopback_and_defaults() -> None:
    a = ServerAddress.of("postgresql://app:pw@localhost/shop")
    b = ServerAddress.of("host=127.0.0.1 port=5432 dbname=shop user=postgres")
    assert a.same_database(b)
    assert not a.same_database(ServerAddress.of("postgresql://127.0.0.1:5433/shop"))
    assert not a.same_database(ServerAddress.of("postgresql://127.0.0.1:5432/postgres"))
    assert a.same_server(ServerAddress.of("postgresql://127.0.0.1:5432/postgres"))
    assert ServerAddress.of("postgresql://u@db.internal").database == "u"


def test_refuse_a_sandbox_that_is_a_production_database() -> None:
    production = [("main", "postgresql://app:secret@127.0.0.1:5432/shop")]
    with pytest.raises(SandboxRefused) as refused:
        refuse_production("postgresql://postgres@localhost:5432/shop", production)
    message = str(refused.value)
    assert (
        "refusing to drill: the sandbox localhost:5432/shop is the database of postgres entry 'main'"
        in message
    )
    assert "secret" not in message
    refuse_production(
        "postgresql://postgres@127.0.0.1:5432/postgres", production
    )  # a scratch admin db is fine


def test_client_environment_keeps_the_password_off_the_command_line() -> None:
    conninfo, env = client_environment("postgresql://u:s3cr3t@127.0.0.1:5432/db")
    assert "s3cr3t" not in conninfo
    assert env["PGPASSWORD"] == "s3cr3t"
    assert env["PGCONNECT_TIMEOUT"] == "10"
    assert "dbname=other" in with_database("postgresql://u@h/db", "other")


def test_url_sandbox_unreachable_says_where() -> None:
    from opsverify.drills.sandbox import SandboxUnavailable
    from tests.conftest import refused_port

    sandbox = UrlSandbox(f"postgresql://postgres:pw@127.0.0.1:{refused_port()}/postgres")
    with pytest.raises(SandboxUnavailable, match=r"cannot connect to sandbox_url 127\.0\.0\.1:\d+/postgres"):
        sandbox.start()
