"""Real mariadb-dump (or mysqldump) output of a throwaway database on the test server: the good dumps and
the ones made wrong (no data, another database, no comments), shared by the integrity and drill tests."""

from __future__ import annotations

import gzip
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from opsverify.kinds.mysql.probe import endpoint
from tests.mysql_server import admin, with_database
from tests.shared import once_per_process

ROWS = 2000


def dump_tool() -> str:
    """mariadb-dump, else mysqldump; fails (never skips) when neither is installed."""
    tool = shutil.which("mariadb-dump") or shutil.which("mysqldump")
    if tool is None:
        pytest.fail("mariadb-dump is missing: `make system-deps` installs mariadb-client", pytrace=False)
    return tool


def run_dump(url: str, *args: str) -> bytes:
    """The tool's output for `args` (a database name, --databases NAME, --no-data ...)."""
    target = endpoint(url)
    env = {**os.environ, "MYSQL_PWD": target.password}
    command = [dump_tool(), f"--host={target.host}", f"--port={target.port}", f"--user={target.user}", *args]
    return subprocess.run(command, env=env, capture_output=True, check=True, timeout=120).stdout


@dataclass
class MysqlDumps:
    """Files of real dumps of the `shop` source database (name in `database`)."""

    database: str
    url: str  # the source database's URL
    plain: Path  # mariadb-dump DB
    plain_gz: Path  # mariadb-dump --databases DB | gzip
    no_data: Path  # --no-data
    other_database: Path  # a dump of another database
    no_comments: Path  # --skip-comments: no header, no trailer


def create_shop(url: str, name: str) -> None:
    """A small shop: customers, orders (ROWS rows), a revision table."""
    with admin(url) as conn, conn.cursor() as cursor:
        cursor.execute(f"create database `{name}`")
    with admin(url, name) as conn, conn.cursor() as cursor:
        cursor.execute("create table alembic_version (version_num varchar(32) primary key)")
        cursor.execute("insert into alembic_version values ('0086')")
        cursor.execute("create table customers (id int primary key, email varchar(100))")
        cursor.executemany(
            "insert into customers values (%s, %s)", [(i, f"c{i}@example.com") for i in range(1, 101)]
        )
        cursor.execute(
            "create table orders (id int auto_increment primary key, customer_id int, total decimal(10,2),"
            " created_at timestamp default current_timestamp)"
        )
        cursor.executemany(
            "insert into orders (customer_id, total) values (%s, %s)",
            [(1 + i % 100, i * 1.25) for i in range(ROWS)],
        )


def drop(url: str, *names: str) -> None:
    with admin(url) as conn, conn.cursor() as cursor:
        for name in names:
            cursor.execute(f"drop database if exists `{name}`")


@pytest.fixture(scope="session")
@once_per_process  # two conftest.py files import it: the dumps made once per test process
def mysql_dumps(mysql_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MysqlDumps]:
    folder = tmp_path_factory.mktemp("mysqldumps")
    name, other = f"ov_shop_{secrets.token_hex(3)}", f"ov_blog_{secrets.token_hex(3)}"
    create_shop(mysql_url, name)
    with admin(mysql_url) as conn, conn.cursor() as cursor:
        cursor.execute(f"create database `{other}`")
        cursor.execute(f"create table `{other}`.posts (id int primary key, title text)")
        cursor.execute(f"insert into `{other}`.posts values (1, 'hello')")
    try:
        files = {
            "plain": ("shop.sql", run_dump(mysql_url, "--single-transaction", name)),
            "plain_gz": ("shop.sql.gz", gzip.compress(run_dump(mysql_url, "--databases", name))),
            "no_data": ("nodata.sql.gz", gzip.compress(run_dump(mysql_url, "--no-data", name))),
            "other_database": ("blog.sql.gz", gzip.compress(run_dump(mysql_url, "--databases", other))),
            "no_comments": ("nocomments.sql", run_dump(mysql_url, "--skip-comments", name)),
        }
        paths = {}
        for key, (file_name, data) in files.items():
            path = folder / file_name
            path.write_bytes(data)
            paths[key] = path
        yield MysqlDumps(name, with_database(mysql_url, name), **paths)
    finally:
        drop(mysql_url, name, other)
