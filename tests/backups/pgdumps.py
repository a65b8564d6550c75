"""Real databases and real pg_dump output for the backup and drill tests (shared by tests/drills).

`source_db` is a small, realistic database (clients, bookings, invoices, alembic_version; a few thousand
rows) under a unique name, dropped at the end of the session. `dumps` holds it dumped by pg_dump in the
plain, plain.gz, custom and directory formats. Tests copy a dump into their own folder before using it.
"""

from __future__ import annotations

import gzip
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from tests.shared import once_per_process

SCHEMA = """
create table clients (
    id serial primary key, name text not null, email text unique not null, created_at timestamptz not null
);
create table bookings (
    id serial primary key, client_id int not null references clients(id), starts_at timestamptz not null,
    status text not null check (status in ('pending', 'confirmed', 'done', 'cancelled')),
    price numeric(10, 2) not null, created_at timestamptz not null
);
create index bookings_client on bookings (client_id);
create table invoices (
    id serial primary key, booking_id int not null references bookings(id), amount numeric(10, 2) not null,
    paid boolean not null default false, created_at timestamptz not null
);
create table alembic_version (version_num varchar(32) primary key);
insert into alembic_version values ('0086');
insert into clients (name, email, created_at)
    select 'Client ' || g, 'client' || g || '@example.com', now() - (g || ' hours')::interval
    from generate_series(1, 400) g;
insert into bookings (client_id, starts_at, status, price, created_at)
    select 1 + g % 400, now() + (g || ' hours')::interval,
           (array['pending', 'confirmed', 'done', 'cancelled'])[1 + g % 4], 40 + (g % 17) * 5.5,
           now() - interval '1 hour' - (g || ' minutes')::interval
    from generate_series(1, 3000) g;
insert into invoices (booking_id, amount, paid, created_at)
    select g, 40 + (g % 17) * 5.5, g % 3 = 0, now() - (g || ' minutes')::interval
    from generate_series(1, 2000) g;
"""
BOOKINGS, CLIENTS, INVOICES = 3000, 400, 2000


def admin_url() -> str:
    return os.environ.get("OPSVERIFY_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def url_for(database: str) -> str:
    params = dict(conninfo_to_dict(admin_url()))
    params["dbname"] = database
    return make_conninfo("", **params)


def unique_name(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(4)}"


def create_database(name: str, script: str | None = None) -> str:
    with psycopg.connect(admin_url(), autocommit=True, connect_timeout=10) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    if script:
        with psycopg.connect(url_for(name), autocommit=True, connect_timeout=10) as connection:
            connection.execute(script)  # type: ignore[arg-type]
    return url_for(name)


def drop_database(name: str) -> None:
    with psycopg.connect(admin_url(), autocommit=True, connect_timeout=10) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def database_exists(name: str) -> bool:
    with psycopg.connect(admin_url(), autocommit=True, connect_timeout=10) as connection:
        return (
            connection.execute("select 1 from pg_database where datname = %s", (name,)).fetchone() is not None
        )


def drill_databases() -> set[str]:
    with psycopg.connect(admin_url(), autocommit=True, connect_timeout=10) as connection:
        rows = connection.execute(
            r"select datname from pg_database where datname like 'opsverify\_drill\_%'"
        ).fetchall()
    return {str(row[0]) for row in rows}


LEFTOVER_WAIT = 180.0  # seconds a drill of another test process may still hold its database


def assert_no_drill_database_left(before: set[str]) -> None:
    """No drill database made since `before` is left on the server.

    The server is shared (pytest-xdist workers, other test sessions): a drill database that another process's
    drill made meanwhile is dropped when that drill ends, while one this test's drill left stays. So the new
    ones are waited for until they are gone (not a timing assertion: a leftover never goes)."""
    __tracebackhide__ = True
    deadline = time.monotonic() + LEFTOVER_WAIT
    while (left := drill_databases() - before) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not left, f"drill databases left on the server: {sorted(left)}"


def pg_dump(database_url: str, output: Path, fmt: str, *extra: str) -> Path:
    """Run the real pg_dump: fmt p (plain), c (custom) or d (directory)."""
    command = ["pg_dump", f"--format={fmt}", f"--file={output}", *extra, f"--dbname={database_url}"]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    return output


def gzip_file(source: Path, target: Path) -> Path:
    with source.open("rb") as raw, gzip.open(target, "wb", compresslevel=6) as packed:
        shutil.copyfileobj(raw, packed)
    return target


@dataclass
class Dumps:
    """pg_dump output of `source_db` in every PostgreSQL format."""

    folder: Path
    plain: Path
    plain_gz: Path
    custom: Path
    directory: Path
    schema_only: Path


@dataclass
class SourceDb:
    name: str
    url: str


@pytest.fixture(scope="session")
@once_per_process  # three conftest.py files import it: one database per test process
def source_db(pg_url: str) -> Iterator[SourceDb]:
    name = unique_name("opsverify_src")
    url = create_database(name, SCHEMA)
    yield SourceDb(name, url)
    drop_database(name)


@pytest.fixture(scope="session")
@once_per_process  # three conftest.py files import it: the dumps made once per test process
def dumps(source_db: SourceDb, tmp_path_factory: pytest.TempPathFactory) -> Dumps:
    folder = tmp_path_factory.mktemp("dumps")
    plain = pg_dump(source_db.url, folder / "backup_20260101_020000.sql", "p")
    return Dumps(
        folder=folder,
        plain=plain,
        plain_gz=gzip_file(plain, folder / "backup_20260101_020000.sql.gz"),
        custom=pg_dump(source_db.url, folder / "backup_20260101_020000.dump", "c"),
        directory=pg_dump(source_db.url, folder / "backup_20260101_020000.dir", "d"),
        schema_only=pg_dump(source_db.url, folder / "schema_only.sql", "p", "--schema-only"),
    )


def place(source: Path, folder: Path, name: str | None = None, age_hours: float = 1.0) -> Path:
    """Copy a dump into a backup folder under `name`, with its mtime `age_hours` in the past."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / (name or source.name)
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        shutil.copyfile(source, target)
    set_age(target, age_hours)
    return target


def set_age(path: Path, age_hours: float) -> None:
    moment = time.time() - age_hours * 3600
    if path.is_dir():
        for child in path.iterdir():
            os.utime(child, (moment, moment))
    os.utime(path, (moment, moment))
