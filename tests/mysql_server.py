"""Helpers for tests against the real MySQL/MariaDB: an admin connection and throwaway databases."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from opsverify.kinds.mysql.probe import endpoint

REVISION = "0086"


def admin(url: str, database: str = "") -> Any:
    """An autocommit PyMySQL connection of the admin URL (to `database`, or none)."""
    target = endpoint(url)
    return endpoint(with_database(url, database or target.database)).connect(5, read_timeout=60)


def with_database(url: str, database: str) -> str:
    """The URL with its database (path) replaced."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


@contextmanager
def throwaway_database(url: str, prefix: str = "opsverify_test_live") -> Iterator[str]:
    """A fresh database with alembic_version (REVISION) and a jobs table of 3 pending jobs; its URL.
    Dropped afterwards."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    with admin(url) as conn, conn.cursor() as cursor:
        cursor.execute(f"create database `{name}`")
    try:
        with admin(url, name) as conn, conn.cursor() as cursor:
            cursor.execute("create table alembic_version (version_num varchar(32) primary key)")
            cursor.execute("insert into alembic_version values (%s)", (REVISION,))
            cursor.execute(
                "create table jobs (id int auto_increment primary key, status varchar(20) not null)"
            )
            cursor.execute("insert into jobs (status) values ('pending'), ('pending'), ('pending')")
        yield with_database(url, name)
    finally:
        with admin(url) as conn, conn.cursor() as cursor:
            cursor.execute(f"drop database if exists `{name}`")
