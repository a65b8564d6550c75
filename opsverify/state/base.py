"""The store's shared part: what a run keeps and reads, in SQL both SQLite and PostgreSQL run.

Every write happens in a transaction; the notification state of a target is read, decided on, sent and
written back under a lock held for the whole of it (SQLite: `BEGIN IMMEDIATE`, PostgreSQL: a transaction
advisory lock on the target), so two runs of one target never send a message twice nor lose an update.
Reasons and figures are redacted before they are written. The backends are in opsverify.state.store.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from opsverify.redaction import redact, redact_data
from opsverify.state.figures import clean_figures, decode_figures
from opsverify.state.legacy import legacy_targets
from opsverify.state.model import CheckState, DrillRecord, NotifyState, StoredResult
from opsverify.state.schema import SCHEMA_VERSION, Cursor, create, migrate

PG_SCHEMA = "opsverify"
CONNECT_TIMEOUT = 5  # seconds to reach a shared store
LOCK_TIMEOUT = 600  # seconds a run waits for another run of the same target to finish notifying
DB_NAME = "opsverify.db"
STATE_URL_ENV = "OPSVERIFY_STATE_URL"
REASON_LIMIT = 500


class StateError(Exception):
    """The store cannot be used as configured (a newer schema, a bad URL): a clear message, no traceback."""


class StateUnavailable(StateError):
    """The store could not be reached or written: checks still count; notifications fall back to sending."""


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
    def transaction(  # pragma: no cover - abstract
        self, lock: str | None = None, *, read: bool = False
    ) -> Iterator[Cursor]:
        """One transaction; `read`: it only reads (SQLite does not take the write lock for it)."""
        raise NotImplementedError
        yield

    def has_table(self, cur: Cursor, name: str) -> bool:
        """Whether the store's table `name` exists (SQLite's catalogue; PostgreSQL overrides)."""
        cur.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
        return cur.fetchone() is not None

    def table(self, name: str) -> str:
        return name

    def sql(self, statement: str) -> str:
        return statement

    def try_lock(self, cur: Cursor, name: str) -> bool:
        """Take the lock `name` for this transaction unless another holds it (SQLite: the transaction is one)."""
        return True

    def reclaim(self, cur: Cursor) -> None:
        """Give the space of deleted rows back to the disk (SQLite); PostgreSQL's autovacuum reuses it."""

    # --- shared ------------------------------------------------------------------------------------------

    def ensure_schema(self, legacy_dir: Path | None = None) -> None:
        """Create the tables on first use (importing the JSON state files), migrate an older schema in
        place (its data kept), refuse a newer one."""
        if self._ready:
            return
        if self._schema_is_current():
            self._ready = True
            return
        with self.transaction(lock="schema") as cur:
            create(cur, self.table)
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
            elif int(row[0]) < SCHEMA_VERSION:
                migrate(cur, self.table, int(row[0]))
                cur.execute(
                    self.sql(f"UPDATE {self.table('meta')} SET value = ? WHERE key = ?"),
                    (str(SCHEMA_VERSION), "schema_version"),
                )
        self._ready = True

    def _schema_is_current(self) -> bool:
        """Whether the store is of this schema version (its tables and indexes made): one read, without the
        schema lock or the DDL, which on PostgreSQL would wait for the runs writing meanwhile. (A new table
        or index therefore comes with a new SCHEMA_VERSION.)"""
        with self.transaction(read=True) as cur:
            if not self.has_table(cur, "meta"):
                return False
            cur.execute(
                self.sql(f"SELECT value FROM {self.table('meta')} WHERE key = ?"), ("schema_version",)
            )
            row = cur.fetchone()
        return row is not None and int(row[0]) == SCHEMA_VERSION

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
        columns = ("status", "duration", "finished", "reason", "figures")
        with self.transaction() as cur:
            self._replace(cur, "results", columns, rows)
            if rows:
                self._record_run(cur, run_id, target)

    def _record_run(self, cur: Cursor, run_id: str, target: str) -> None:
        """The run's row in `runs` (when it finished, how many results it kept), from its results."""
        results, runs = self.table("results"), self.table("runs")
        cur.execute(
            self.sql(f"SELECT MAX(finished), COUNT(*) FROM {results} WHERE run_id = ? AND target = ?"),
            (run_id, target),
        )
        finished, checks = cur.fetchone()
        cur.execute(self.sql(f"DELETE FROM {runs} WHERE target = ? AND run_id = ?"), (target, run_id))
        cur.execute(
            self.sql(f"INSERT INTO {runs} (target, run_id, finished, checks) VALUES (?, ?, ?, ?)"),
            (target, run_id, float(finished), int(checks)),
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
            self._replace(cur, "drills", ("started", "record"), rows)

    def _replace(self, cur: Cursor, name: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        """Insert `rows` (run_id, target, check_id, *columns), each replacing the one of the same key (one
        statement per row: an upsert finds the key once)."""
        names = ", ".join(("run_id", "target", "check_id", *columns))
        update = ", ".join(f"{column} = excluded.{column}" for column in columns)
        statement = self.sql(
            f"INSERT INTO {self.table(name)} ({names}) VALUES ({', '.join('?' * (3 + len(columns)))}) "
            f"ON CONFLICT (run_id, target, check_id) DO UPDATE SET {update}"
        )
        if rows:
            cur.executemany(statement, rows)  # psycopg: one round trip (pipelined)

    def drills(self, target: str, since: float | None = None) -> list[DrillRecord]:
        """The drill evidence records of `target` (started at or after `since`), oldest first."""
        self.ensure_schema()
        where, params = "target = ?", tuple[Any, ...]((target,))
        if since is not None:
            where, params = where + " AND started >= ?", (target, float(since))
        with self.transaction(read=True) as cur:
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
        with self.transaction(read=True) as cur:
            cur.execute(
                self.sql(
                    "SELECT run_id, target, check_id, status, duration, finished, reason, figures "
                    f"FROM {self.table('results')} WHERE {where} ORDER BY finished DESC LIMIT {int(limit)}"
                ),
                params,
            )
            rows = cur.fetchall()
        return [
            StoredResult(r[0], r[1], r[2], r[3], float(r[4]), float(r[5]), r[6], decode_figures(r[7]))
            for r in rows
        ]

    def recent_results(
        self,
        target: str,
        runs: int,
        exclude_run: str | None = None,
        *,
        figures: bool = True,
        checks: Sequence[str] | None = None,
    ) -> list[StoredResult]:
        """Every result of the target's last `runs` runs (but `exclude_run`), oldest run first, of the
        `checks` only when given; without `figures` their figures are left empty (decoding them is most of
        the cost for thousands of rows)."""
        if checks is not None and not checks:
            return []
        self.ensure_schema()
        only = "" if checks is None else f" AND r.check_id IN ({', '.join('?' * len(checks))})"
        with self.transaction(read=True) as cur:
            cur.execute(  # the last runs first, then their results by key (CROSS JOIN: in this order)
                self.sql(
                    "SELECT r.run_id, r.target, r.check_id, r.status, r.duration, r.finished, r.reason, "
                    f"r.figures FROM (SELECT run_id FROM {self.table('runs')} WHERE target = ? AND run_id <> ? "
                    f"ORDER BY finished DESC LIMIT {int(runs)}) AS last CROSS JOIN {self.table('results')} AS r "
                    f"WHERE r.run_id = last.run_id AND r.target = ?{only} ORDER BY r.finished, r.check_id"
                ),
                (target, exclude_run or "", target, *(checks or ())),
            )
            rows = cur.fetchall()
        return [
            StoredResult(
                r[0],
                r[1],
                r[2],
                r[3],
                float(r[4]),
                float(r[5]),
                r[6],
                decode_figures(r[7]) if figures else {},
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
        rows = [
            (target, check_id, c.failures, c.alerted_at, c.status, c.last_run, c.recent)
            for check_id, c in sorted(state.checks.items())
        ]
        if rows:
            cur.executemany(
                self.sql(
                    f"INSERT INTO {table} (target, check_id, failures, alerted_at, status, last_run, recent) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)"
                ),
                rows,
            )
