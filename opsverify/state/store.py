"""The state store's backends: SQLite by default (WAL, `BEGIN IMMEDIATE`), PostgreSQL when shared.

`open_store` picks one and readies its schema; the queries themselves are in opsverify.state.base.
"""

from __future__ import annotations

import os
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from opsverify.redaction import redact
from opsverify.state.base import (
    CONNECT_TIMEOUT,
    DB_NAME,
    LOCK_TIMEOUT,
    PG_SCHEMA,
    STATE_URL_ENV,
    StateError,
    StateStore,
    StateUnavailable,
    describe,
)
from opsverify.state.schema import SCHEMA_VERSION, Cursor

RECLAIM_PAGES = 8192  # free pages given back to the disk per prune batch at most (32 MiB of 4 KiB pages)
MMAP_BYTES = 1 << 30  # SQLite reads the file through a memory map of up to this size

__all__ = [
    "DB_NAME",
    "SCHEMA_VERSION",
    "STATE_URL_ENV",
    "PostgresStore",
    "SqliteStore",
    "StateError",
    "StateStore",
    "StateUnavailable",
    "open_store",
    "state_url",
]


def _retry_busy(step: Callable[[], object], deadline: float) -> None:
    """Run `step`, again while SQLite says the file is busy, until `deadline`.

    SQLite answers "database is locked" at once, without waiting on its busy timeout, where waiting could
    deadlock: two processes that both read a new file and both want to switch it to WAL, say. One of them
    must let go and try again, which is what this does (with a little jitter so they do not collide again).
    """
    while True:
        try:
            step()
            return
        except sqlite3.OperationalError as exc:
            text = str(exc).lower()
            if ("locked" not in text and "busy" not in text) or time.monotonic() > deadline:
                raise
        time.sleep(0.01 + random.random() * 0.05)  # noqa: S311 - jitter, not a secret


class SqliteStore(StateStore):
    """One SQLite file in WAL mode; `BEGIN IMMEDIATE` serialises writers across processes."""

    def __init__(self, path: Path) -> None:
        super().__init__(str(path))
        self.path = path
        self._reclaim = False

    @contextmanager
    def transaction(self, lock: str | None = None, *, read: bool = False) -> Iterator[Cursor]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=LOCK_TIMEOUT, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise StateUnavailable(f"cannot open the state store {self.where}: {exc}") from None
        try:
            connection.execute(f"PRAGMA busy_timeout={LOCK_TIMEOUT * 1000}")
            connection.execute(
                f"PRAGMA mmap_size={MMAP_BYTES}"
            )  # pages read without a copy, warm across runs
            deadline = time.monotonic() + LOCK_TIMEOUT
            if connection.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                connection.execute("PRAGMA auto_vacuum=INCREMENTAL")  # a new file only: before WAL, tables
                _retry_busy(lambda: connection.execute("PRAGMA journal_mode=WAL"), deadline)
            cursor = connection.cursor()
            # a read sees the last commit (WAL) without waiting for a writer; a write takes the lock at once
            _retry_busy(lambda: connection.execute("BEGIN" if read else "BEGIN IMMEDIATE"), deadline)
            try:
                yield cursor
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            _retry_busy(lambda: connection.execute("COMMIT"), deadline)
            if self._reclaim:
                self._reclaim = False
                vacuum = f"PRAGMA incremental_vacuum({RECLAIM_PAGES});"
                _retry_busy(lambda: connection.executescript(vacuum), deadline)
        except sqlite3.Error as exc:
            raise StateUnavailable(f"the state store {self.where} failed: {exc}") from None
        finally:
            connection.close()

    def reclaim(self, cur: Cursor) -> None:
        self._reclaim = True  # after the commit: executescript commits, and execute() frees one page only


class PostgresStore(StateStore):
    """A PostgreSQL database shared by several runners; the tables live in the `opsverify` schema."""

    def __init__(self, url: str) -> None:
        super().__init__(describe(url))
        self.url = url

    def table(self, name: str) -> str:
        return f"{PG_SCHEMA}.{name}"

    def sql(self, statement: str) -> str:
        return statement.replace("?", "%s")

    def try_lock(self, cur: Cursor, name: str) -> bool:
        cur.execute("SELECT pg_try_advisory_xact_lock(hashtext(%s))", (f"opsverify:{name}",))
        return bool(cur.fetchone()[0])

    def has_table(self, cur: Cursor, name: str) -> bool:
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", (self.table(name),))
        return bool(cur.fetchone()[0])

    @contextmanager
    def transaction(self, lock: str | None = None, *, read: bool = False) -> Iterator[Cursor]:
        import psycopg

        try:
            connection = psycopg.connect(
                self.url, connect_timeout=CONNECT_TIMEOUT, application_name="opsverify-state"
            )
        except psycopg.Error as exc:
            raise StateUnavailable(
                f"cannot reach the state store {self.where}: {redact(str(exc)).strip()}"
            ) from None
        try:
            with connection.transaction(), connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}s'")
                cursor.execute(f"SET LOCAL statement_timeout = '{LOCK_TIMEOUT + 60}s'")
                if lock is not None:
                    cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"opsverify:{lock}",))
                if lock == "schema":
                    cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {PG_SCHEMA}")
                yield cursor
        except psycopg.Error as exc:
            raise StateUnavailable(
                f"the state store {self.where} failed: {redact(str(exc)).strip()}"
            ) from None
        finally:
            connection.close()


def state_url(configured: str | None) -> str | None:
    """The shared store's URL: the target's `state.url`, else $OPSVERIFY_STATE_URL, else None (SQLite)."""
    return configured or os.environ.get(STATE_URL_ENV) or None


def open_store(url: str | None, directory: Path) -> StateStore:
    """The store at `url` (postgresql://...), else the SQLite file in `directory`; the schema is ready.

    The JSON state files in `directory` are imported when the store is created. Raises StateError for a
    newer schema or an unknown URL scheme, StateUnavailable when it cannot be reached.
    """
    store: StateStore
    if url:
        if not url.startswith(("postgresql://", "postgres://")):
            raise StateError(
                f"state.url {describe(url)!r} is not a PostgreSQL URL: write postgresql://user:password@host/db, "
                "or leave it out for the SQLite file under reports/state"
            )
        store = PostgresStore(url)
    else:
        store = SqliteStore(directory / DB_NAME)
    store.ensure_schema(legacy_dir=directory)
    return store
