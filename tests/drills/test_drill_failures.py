"""Drills that must fail, and say why: wrong database, restore errors, broken backups, a production sandbox."""

from __future__ import annotations

import gzip
import subprocess
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.backups.pgdumps import (
    Dumps,
    SourceDb,
    admin_url,
    assert_no_drill_database_left,
    create_database,
    drill_databases,
    drop_database,
    pg_dump,
    place,
    unique_name,
    url_for,
)
from tests.drills.helpers import evidence_lines, run_drill


@pytest.fixture(scope="module")
def ghost_dump(tmp_path_factory: pytest.TempPathFactory, pg_url: str) -> Path:
    """A real dump whose tables are owned by a role that no longer exists (dropped after the dump)."""
    role, database = unique_name("opsverify_ghost"), unique_name("opsverify_src_ghost")
    with psycopg.connect(pg_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE ROLE {}").format(sql.Identifier(role)))
    url = create_database(
        database, "create table clients (id int primary key); insert into clients values (1);"
    )
    try:
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(sql.SQL("ALTER TABLE clients OWNER TO {}").format(sql.Identifier(role)))
        folder = tmp_path_factory.mktemp("ghost")
        plain = pg_dump(url, folder / "backup_1.sql", "p")
        packed = folder / "backup_1.sql.gz"
        packed.write_bytes(gzip.compress(plain.read_bytes()))
        plain.unlink()
    finally:
        drop_database(database)
        with psycopg.connect(pg_url, autocommit=True) as connection:
            connection.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
    return packed


def test_missing_role_fails_the_restore_where_plain_psql_would_not(
    ghost_dump: Path, tmp_path: Path, reports: Path
) -> None:
    scratch = unique_name("opsverify_scratch")
    create_database(scratch)
    try:  # the guide's own restore command: errors scroll by, exit status 0
        completed = subprocess.run(  # noqa: S602 - the pipeline exactly as the seed guide writes it
            f"gunzip -c {ghost_dump} | psql -q -d '{url_for(scratch)}'",
            shell=True,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert completed.returncode == 0
        assert "does not exist" in completed.stderr
    finally:
        drop_database(scratch)
    place(ghost_dump, tmp_path / "b")
    before = drill_databases()
    facts, (problem,) = run_drill(tmp_path, tmp_path / "b", {"expect": {"tables": ["clients"]}})
    assert problem.startswith("restore failed (psql exited with status 3): ")
    assert "ERROR:  role" in problem
    assert "does not exist" in problem
    assert "the dump references a role the sandbox does not have" in problem
    assert [(s.name, s.ok) for s in facts.steps][-2:] == [("restore", False), ("teardown", True)]
    assert "ERROR:" in facts.restore_log()
    assert_no_drill_database_left(before)
    assert evidence_lines(reports)[0]["failed_step"] == "restore"


def test_dump_of_the_wrong_database(tmp_path: Path, pg_url: str) -> None:
    name = unique_name("opsverify_src_other")
    url = create_database(name, "create table notes (id int); insert into notes values (1);")
    try:
        pg_dump(url, tmp_path / "backup_1.dump", "c")
    finally:
        drop_database(name)
    place(tmp_path / "backup_1.dump", tmp_path / "b")
    _facts, problems = run_drill(tmp_path, tmp_path / "b")
    assert problems[0] == (
        "restored database: lacks expected tables clients, bookings, public.invoices; "
        "is this a dump of the right database?"
    )


def test_broken_backup_stops_before_any_sandbox(dumps: Dumps, tmp_path: Path, reports: Path) -> None:
    data = dumps.plain_gz.read_bytes()
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "backup.sql.gz").write_bytes(data[: len(data) // 2])
    facts, (problem,) = run_drill(tmp_path, tmp_path / "b")
    assert problem.startswith("backup.sql.gz: gzip stream is truncated")
    assert [s.name for s in facts.steps] == ["find", "integrity"]
    assert facts.database is None
    record = evidence_lines(reports)[0]
    assert record["verdict"] == "failed"
    assert record["failed_step"] == "integrity"


def test_no_backup_at_all(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    _facts, (problem,) = run_drill(tmp_path, tmp_path / "b", pattern="backup_*.sql.gz")
    assert problem.startswith(f"no backup in {tmp_path / 'b'} matches backup_*.sql.gz")


def test_drill_pointed_at_the_production_database_refuses(
    dumps: Dumps, source_db: SourceDb, tmp_path: Path
) -> None:
    place(dumps.plain_gz, tmp_path / "b")
    before = drill_databases()
    facts, (problem,) = run_drill(
        tmp_path, tmp_path / "b", {"sandbox_url": source_db.url}, postgres={"main": {"url": source_db.url}}
    )
    assert problem.startswith(
        f"refusing to drill: the sandbox 127.0.0.1:5432/{source_db.name} is the database of postgres entry 'main'"
    )
    assert facts.database is None
    assert_no_drill_database_left(before)
    with psycopg.connect(source_db.url) as connection:  # production untouched
        assert connection.execute("select count(*) from bookings").fetchone() == (3000,)


def test_a_scratch_admin_db_on_the_same_server_is_allowed(
    dumps: Dumps, source_db: SourceDb, tmp_path: Path
) -> None:
    place(dumps.plain_gz, tmp_path / "b")
    _facts, problems = run_drill(
        tmp_path, tmp_path / "b", {"sandbox_url": admin_url()}, postgres={"main": {"url": source_db.url}}
    )
    assert problems == []


def test_json_backups_are_not_drillable(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "vectors.json").write_text("[1, 2]")
    _facts, (problem,) = run_drill(tmp_path, tmp_path / "b")
    assert problem.startswith("a json backup cannot be restored by a drill")
