"""Replica databases: a uniquely named PostgreSQL database (dropped afterwards) or a SQLite file, and
backups of them made with the real tools (pg_dump, sqlite3, tar) the seed systems' scripts use."""

from __future__ import annotations

import contextlib
import gzip
import os
import shutil
import sqlite3
import subprocess
import threading
import time
import uuid
from contextlib import closing
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql


def with_database(url: str, database: str, port: int | None = None) -> str:
    """`url` with its path (database name), and optionally its port, replaced."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if port is not None:
        netloc = (
            f"{netloc.rsplit(':', 1)[0]}:{port}" if ":" in netloc.rsplit("@", 1)[-1] else f"{netloc}:{port}"
        )
    return urlunsplit((parts.scheme, netloc, f"/{database}", parts.query, parts.fragment))


class PostgresDatabase:
    """A fresh database `<prefix>_<random>` on the admin server; `drop()` removes it (FORCE)."""

    def __init__(self, admin_url: str, prefix: str, schema_sql: str) -> None:
        self.admin_url = admin_url
        self.name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))
        self.url = with_database(admin_url, self.name)
        self.execute(schema_sql)

    def execute(self, statements: str, params: tuple[object, ...] | None = None) -> None:
        with psycopg.connect(self.url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(statements.encode() if params is None else statements, params)  # type: ignore[arg-type]

    def scalar(self, query: str) -> object:
        with psycopg.connect(self.url, autocommit=True, connect_timeout=10) as conn:
            row = conn.execute(query.encode()).fetchone()  # type: ignore[arg-type]
        return row[0] if row else None

    def dump(self, destination: Path, compress: bool, age_hours: float = 0.0) -> Path:
        """`pg_dump` (plain SQL), gzip-compressed when the seed's backup script compresses."""
        destination.parent.mkdir(parents=True, exist_ok=True)
        completed = subprocess.run(
            ["pg_dump", "--no-owner", "--dbname", self.url], capture_output=True, timeout=120, check=True
        )
        data = gzip.compress(completed.stdout) if compress else completed.stdout
        destination.write_bytes(data)
        age(destination, age_hours)
        return destination

    def drop(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name)))


class HeldConnection:
    """One connection kept open between queries, as a real exporter keeps it: a scrape four times a second
    then costs a query, not a new server backend (whose start-up, on a loaded machine, can outlast the
    scrape timeout and turn `up` to 0). A broken connection (the proxy went down) is dropped and opened
    again once per query, so each answer still reflects whether the database can be reached now."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None
        self._lock = threading.Lock()

    def scalar(self, query: str) -> object:
        """The query's first value; raises psycopg.Error when the database cannot be reached."""
        with self._lock:
            for attempt in (1, 2):
                if self._conn is None or self._conn.closed:
                    self._conn = psycopg.connect(self.url, autocommit=True, connect_timeout=2)
                try:
                    row = self._conn.execute(query.encode()).fetchone()  # type: ignore[arg-type]
                except psycopg.OperationalError:
                    self.close_locked()
                    if attempt == 2:
                        raise
                    continue
                return row[0] if row else None
        raise AssertionError("unreachable")

    def close_locked(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
            self._conn = None

    def close(self) -> None:
        with self._lock:
            self.close_locked()


def age(path: Path, hours: float) -> None:
    """Set a file's modification time `hours` into the past (a backup made that long ago)."""
    when = time.time() - hours * 3600
    os.utime(path, (when, when))


def sqlite_database(path: Path, schema_sql: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(schema_sql)
        conn.commit()
    return path


def sqlite_backup(database: Path, destination: Path, age_hours: float = 0.0) -> Path:
    """`sqlite3 DB ".backup DEST"`, as the seed's runbook does it."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.unlink(missing_ok=True)
    subprocess.run(
        ["sqlite3", str(database), f".backup {destination}"], capture_output=True, timeout=60, check=True
    )
    age(destination, age_hours)
    return destination


def tar_backup(source: Path, destination: Path, age_hours: float = 0.0) -> Path:
    """`tar czf DEST -C PARENT NAME`, as the seeds' upload/data backups do."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["tar", "czf", str(destination), "-C", str(source.parent), source.name],
        capture_output=True,
        timeout=60,
        check=True,
    )
    age(destination, age_hours)
    return destination


def corrupt(path: Path) -> None:
    """Cut a backup file in half: a truncated gzip/tar/SQLite file, as a full disk or killed job leaves it."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def require_tools(*names: str) -> None:
    missing = [name for name in names if shutil.which(name) is None]
    if missing:
        raise RuntimeError(
            f"{', '.join(missing)} not found on PATH; install them (make system-deps installs postgresql-client, "
            "sqlite3) — the seed replicas make their backups with the real tools"
        )
