"""The state store: SQLite by default, PostgreSQL when shared.

Every write happens in a transaction; the notification state of a target is read, decided on, sent and
written back under a lock held for the whole of it (SQLite: `BEGIN IMMEDIATE`, PostgreSQL: a transaction
advisory lock on the target), so two runs of one target never send a message twice nor lose an update.
Reasons and figures are redacted before they are written.
"""

from __future__ import annotations

import json
import math
import os
import random
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from opsverify.redaction import redact, redact_data
from opsverify.state.legacy import legacy_targets
from opsverify.state.model import CheckState, DrillRecord, NotifyState, StoredResult

SCHEMA_VERSION = 1
PG_SCHEMA = "opsverify"
CONNECT_TIMEOUT = 5  # seconds to reach a shared store
LOCK_TIMEOUT = 600  # seconds a run waits for another run of the same target to finish notifying
DB_NAME = "opsverify.db"
STATE_URL_ENV = "OPSVERIFY_STATE_URL"
REASON_LIMIT = 500

_TABLES = (
    "meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "results (run_id TEXT NOT NULL, target TEXT NOT NULL, check_id TEXT NOT NULL, status TEXT NOT NULL,"
    " duration DOUBLE PRECISION NOT NULL, finished DOUBLE PRECISION NOT NULL, reason TEXT NOT NULL,"
    " figures TEXT NOT NULL, PRIMARY KEY (run_id, target, check_id))",
    "notify_state (target TEXT NOT NULL, check_id TEXT NOT NULL, failures INTEGER NOT NULL,"
    " alerted_at DOUBLE PRECISION, status TEXT NOT NULL, last_run DOUBLE PRECISION NOT NULL,"
    " recent TEXT NOT NULL DEFAULT '', PRIMARY KEY (target, check_id))",
    "silences (id TEXT PRIMARY KEY, target TEXT NOT NULL, pattern TEXT NOT NULL, ends DOUBLE PRECISION NOT NULL,"
    " reason TEXT NOT NULL, created DOUBLE PRECISION NOT NULL)",
    # one restore drill's evidence record (the line drills.jsonl has), added to schema 1 as a new table
    "drills (run_id TEXT NOT NULL, target TEXT NOT NULL, check_id TEXT NOT NULL, started DOUBLE PRECISION NOT NULL,"
    " record TEXT NOT NULL, PRIMARY KEY (run_id, target, check_id))",
)
_INDEXES = (
    "results_by_check ON results (target, check_id, finished)",
    "drills_by_target ON drills (target, started)",
)


class StateError(Exception):
    """The store cannot be used as configured (a newer schema, a bad URL): a clear message, no traceback."""


class StateUnavailable(StateError):
    """The store could not be reached or written: checks still count; notifications fall back to sending."""


class Cursor(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def fetchone(self) -> Any: ...


def describe(url: str) -> str:
    """The store's address for messages (the password redacted)."""
    return redact(url)


class StateStore:
    """One store; `where` names it in messages."""

    where: str

    def __init__(self, where: str) -> None:
        self.where = where
        self._ready = False

    # --- to implement ------------------------------------------------------------------------------------

    @contextmanager
    def transaction(self, lock: str | None = None) -> Iterator[Cursor]:  # pragma: no cover - abstract
        raise NotImplementedError
        yield

    def table(self, name: str) -> str:
        return name

    def sql(self, statement: str) -> str:
        return statement

    # --- shared ------------------------------------------------------------------------------------------

    def ensure_schema(self, legacy_dir: Path | None = None) -> None:
        """Create the tables on first use (importing the JSON state files); refuse a newer schema."""
        if self._ready:
            return
        with self.transaction(lock="schema") as cur:
            self._create(cur)
            cur.execute(
                self.sql(f"SELECT value FROM {self.table('meta')} WHERE key = ?"), ("schema_version",)
            )
            row = cur.fetchone()
            if row is None:
                cur.execute(
                    self.sql(f"INSERT INTO {self.table('meta')} (key, value) VALUES (?, ?)"),
                    ("schema_version", str(SCHEMA_VERSION)),
                )
                if legacy_dir is not None:
                    self._import_legacy(cur, legacy_dir)
            elif int(row[0]) > SCHEMA_VERSION:
                raise StateError(
                    f"the state store {self.where} has schema version {row[0]}, written by a newer opsverify "
                    f"(this one knows version {SCHEMA_VERSION}): upgrade opsverify on this runner, or point "
                    f"`state: {{url: ...}}` / {STATE_URL_ENV} at another store"
                )
        self._ready = True

    def _create(self, cur: Cursor) -> None:
        for table in _TABLES:
            cur.execute(f"CREATE TABLE IF NOT EXISTS {self.table(table)}")
        for index in _INDEXES:
            name, _, rest = index.partition(" ON ")
            cur.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {self.table(rest)}")

    def _import_legacy(self, cur: Cursor, directory: Path) -> None:
        for target, state in legacy_targets(directory).items():
            self._save_state(cur, target, state)

    def record_results(self, run_id: str, target: str, results: Sequence[StoredResult]) -> None:
        """Keep the results of one run (redacted); the same run recorded twice keeps its last results."""
        self.ensure_schema()
        rows = [
            (
                run_id,
                target,
                r.check_id,
                r.status,
                float(r.duration),
                float(r.finished),
                redact(r.reason)[:REASON_LIMIT],
                json.dumps(redact_data(clean_figures(r.figures)), sort_keys=True),
            )
            for r in results
        ]
        with self.transaction() as cur:
            for row in rows:
                cur.execute(
                    self.sql(
                        f"DELETE FROM {self.table('results')} WHERE run_id = ? AND target = ? AND check_id = ?"
                    ),
                    row[:3],
                )
                cur.execute(
                    self.sql(
                        f"INSERT INTO {self.table('results')} (run_id, target, check_id, status, duration, "
                        "finished, reason, figures) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                    ),
                    row,
                )

    def record_drills(self, run_id: str, target: str, drills: Sequence[DrillRecord]) -> None:
        """Keep the evidence records of one run's drills (redacted); the same run recorded twice keeps its last."""
        if not drills:
            return
        self.ensure_schema()
        rows = [
            (
                run_id,
                target,
                d.check_id,
                float(d.started),
                json.dumps(redact_data(d.record), default=str),  # in order: the steps ran in it
            )
            for d in drills
        ]
        with self.transaction() as cur:
            for row in rows:
                cur.execute(
                    self.sql(
                        f"DELETE FROM {self.table('drills')} WHERE run_id = ? AND target = ? AND check_id = ?"
                    ),
                    row[:3],
                )
                cur.execute(
                    self.sql(
                        f"INSERT INTO {self.table('drills')} (run_id, target, check_id, started, record) "
                        "VALUES (?, ?, ?, ?, ?)"
                    ),
                    row,
                )

    def drills(self, target: str, since: float | None = None) -> list[DrillRecord]:
        """The drill evidence records of `target` (started at or after `since`), oldest first."""
        self.ensure_schema()
        where, params = "target = ?", tuple[Any, ...]((target,))
        if since is not None:
            where, params = where + " AND started >= ?", (target, float(since))
        with self.transaction() as cur:
            cur.execute(
                self.sql(
                    f"SELECT run_id, target, check_id, started, record FROM {self.table('drills')} "
                    f"WHERE {where} ORDER BY started, check_id"
                ),
                params,
            )
            rows = cur.fetchall()
        found = []
        for r in rows:
            try:
                record = json.loads(r[4])
            except ValueError:
                continue
            if isinstance(record, dict):
                found.append(DrillRecord(str(r[0]), str(r[1]), str(r[2]), float(r[3]), record))
        return found

    def history(self, target: str | None, check_id: str, limit: int = 20) -> list[StoredResult]:
        """The last `limit` results of a check, newest first (of any target when `target` is None)."""
        self.ensure_schema()
        where, params = "check_id = ?", [check_id]
        if target is not None:
            where, params = where + " AND target = ?", [*params, target]
        with self.transaction() as cur:
            cur.execute(
                self.sql(
                    "SELECT run_id, target, check_id, status, duration, finished, reason, figures "
                    f"FROM {self.table('results')} WHERE {where} ORDER BY finished DESC LIMIT {int(limit)}"
                ),
                params,
            )
            rows = cur.fetchall()
        return [
            StoredResult(r[0], r[1], r[2], r[3], float(r[4]), float(r[5]), r[6], _figures(r[7])) for r in rows
        ]

    def recent_results(
        self, target: str, runs: int, exclude_run: str | None = None, *, figures: bool = True
    ) -> list[StoredResult]:
        """Every result of the target's last `runs` runs (but `exclude_run`), oldest run first; without
        `figures` their figures are left empty (decoding them is most of the cost for thousands of rows)."""
        self.ensure_schema()
        table = self.table("results")
        with self.transaction() as cur:
            cur.execute(
                self.sql(
                    "SELECT run_id, target, check_id, status, duration, finished, reason, figures "
                    f"FROM {table} WHERE target = ? AND run_id IN (SELECT run_id FROM {table} WHERE target = ? "
                    f"AND run_id <> ? GROUP BY run_id ORDER BY MAX(finished) DESC LIMIT {int(runs)}) "
                    "ORDER BY finished, check_id"
                ),
                (target, target, exclude_run or ""),
            )
            rows = cur.fetchall()
        return [
            StoredResult(
                r[0], r[1], r[2], r[3], float(r[4]), float(r[5]), r[6], _figures(r[7]) if figures else {}
            )
            for r in rows
        ]

    @contextmanager
    def notify_state(self, target: str, write: bool = True) -> Iterator[NotifyState]:
        """The target's notification state under its lock; written back when the block ends without error
        (unless `write` is False: a dry run)."""
        self.ensure_schema()
        with self.transaction(lock=f"notify:{target}") as cur:
            cur.execute(
                self.sql(
                    f"SELECT check_id, failures, alerted_at, status, last_run, recent FROM {self.table('notify_state')} "
                    "WHERE target = ?"
                ),
                (target,),
            )
            state = NotifyState(
                {
                    str(r[0]): CheckState(
                        int(r[1]), None if r[2] is None else float(r[2]), str(r[3]), float(r[4]), str(r[5])
                    )
                    for r in cur.fetchall()
                }
            )
            yield state
            if write:
                self._save_state(cur, target, state)

    def _save_state(self, cur: Cursor, target: str, state: NotifyState) -> None:
        table = self.table("notify_state")
        cur.execute(self.sql(f"DELETE FROM {table} WHERE target = ?"), (target,))
        for check_id, check in sorted(state.checks.items()):
            cur.execute(
                self.sql(
                    f"INSERT INTO {table} (target, check_id, failures, alerted_at, status, last_run, recent) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)"
                ),
                (
                    target,
                    check_id,
                    check.failures,
                    check.alerted_at,
                    check.status,
                    check.last_run,
                    check.recent,
                ),
            )


def clean_figures(figures: dict[str, Any]) -> dict[str, float]:
    """Only finite numbers are figures."""
    clean: dict[str, float] = {}
    for key, value in figures.items():
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            clean[str(key)] = float(value)
    return clean


def _figures(text: str) -> dict[str, float]:
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return clean_figures(data) if isinstance(data, dict) else {}


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

    @contextmanager
    def transaction(self, lock: str | None = None) -> Iterator[Cursor]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=LOCK_TIMEOUT, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise StateUnavailable(f"cannot open the state store {self.where}: {exc}") from None
        try:
            connection.execute(f"PRAGMA busy_timeout={LOCK_TIMEOUT * 1000}")
            deadline = time.monotonic() + LOCK_TIMEOUT
            if connection.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                _retry_busy(lambda: connection.execute("PRAGMA journal_mode=WAL"), deadline)
            cursor = connection.cursor()
            _retry_busy(lambda: connection.execute("BEGIN IMMEDIATE"), deadline)
            try:
                yield cursor
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            _retry_busy(lambda: connection.execute("COMMIT"), deadline)
        except sqlite3.Error as exc:
            raise StateUnavailable(f"the state store {self.where} failed: {exc}") from None
        finally:
            connection.close()


class PostgresStore(StateStore):
    """A PostgreSQL database shared by several runners; the tables live in the `opsverify` schema."""

    def __init__(self, url: str) -> None:
        super().__init__(describe(url))
        self.url = url

    def table(self, name: str) -> str:
        return f"{PG_SCHEMA}.{name}"

    def sql(self, statement: str) -> str:
        return statement.replace("?", "%s")

    @contextmanager
    def transaction(self, lock: str | None = None) -> Iterator[Cursor]:
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
