"""Retention: results and drill evidence past the target's limits leave the store, a bounded batch at a time.

Each run prunes one batch of its own target after keeping its results (`prune_after_run`), in a short
transaction of its own, so a store that was let grow shrinks over the next runs without ever holding a
long lock; `opsverify state prune` runs batches until nothing is left. A target prunes only its own rows:
two targets sharing a store with different limits never delete what the other keeps, and on PostgreSQL
two runners of one target never prune at once (the second skips: the first is doing it).
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, fields

from opsverify.redaction import redact
from opsverify.state.base import LOCK_TIMEOUT, StateError, StateStore, StateUnavailable

DAY = 86400.0
RESULTS_DAYS = 90  # state.retention.results by default
DRILLS_DAYS = 400  # state.retention.drills by default: auditors ask for a year of drills
RESULTS_BATCH = 5000  # result rows deleted per batch at most (but always one whole run)
DRILLS_BATCH = 500
SILENCES_BATCH = 500
RUNS_LOOKED_AT = 500  # the oldest runs past retention read per batch


@dataclass(frozen=True)
class Retention:
    """How long the store keeps a target's results and its drills' evidence (seconds)."""

    results: float = RESULTS_DAYS * DAY
    drills: float = DRILLS_DAYS * DAY


@dataclass
class Pruned:
    """Rows deleted (or, for a dry run, to delete); `busy`: another runner was pruning this target."""

    results: int = 0
    runs: int = 0
    drills: int = 0
    silences: int = 0
    busy: bool = False

    @property
    def rows(self) -> int:
        return self.results + self.runs + self.drills + self.silences

    def add(self, other: Pruned) -> None:
        for field in fields(self):
            if field.name != "busy":
                setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))


def prune_batch(store: StateStore, target: str, retention: Retention, now: float | None = None) -> Pruned:
    """Delete one bounded batch of the target's rows past retention (and expired silences)."""
    store.ensure_schema()
    moment = time.time() if now is None else now
    results, runs, drills, silences = (store.table(t) for t in ("results", "runs", "drills", "silences"))
    with store.transaction() as cur:
        if not store.try_lock(cur, f"prune:{target}"):
            return Pruned(busy=True)
        cur.execute(
            store.sql(
                f"SELECT run_id, checks FROM {runs} WHERE target = ? AND finished < ? ORDER BY finished "
                f"LIMIT {RUNS_LOOKED_AT}"
            ),
            (target, moment - retention.results),
        )
        pruned = Pruned()
        for run_id, checks in cur.fetchall():
            if pruned.runs and pruned.results + int(checks) > RESULTS_BATCH:
                break
            cur.execute(store.sql(f"DELETE FROM {results} WHERE run_id = ? AND target = ?"), (run_id, target))
            cur.execute(store.sql(f"DELETE FROM {runs} WHERE target = ? AND run_id = ?"), (target, run_id))
            pruned.results, pruned.runs = pruned.results + int(checks), pruned.runs + 1
        cur.execute(
            store.sql(
                f"SELECT run_id, check_id FROM {drills} WHERE target = ? AND started < ? ORDER BY started "
                f"LIMIT {DRILLS_BATCH}"
            ),
            (target, moment - retention.drills),
        )
        for run_id, check_id in cur.fetchall():
            cur.execute(
                store.sql(f"DELETE FROM {drills} WHERE run_id = ? AND target = ? AND check_id = ?"),
                (run_id, target, check_id),
            )
            pruned.drills += 1
        cur.execute(
            store.sql(f"SELECT id FROM {silences} WHERE target = ? AND ends <= ? LIMIT {SILENCES_BATCH}"),
            (target, moment),
        )
        for (silence_id,) in cur.fetchall():
            cur.execute(store.sql(f"DELETE FROM {silences} WHERE id = ?"), (silence_id,))
            pruned.silences += 1
        if pruned.rows:
            store.reclaim(cur)
    return pruned


def prune_all(store: StateStore, target: str, retention: Retention, now: float | None = None) -> Pruned:
    """Batches until nothing of the target is past retention (each its own short transaction)."""
    total, deadline = Pruned(), time.monotonic() + LOCK_TIMEOUT
    while True:
        batch = prune_batch(store, target, retention, now)
        if batch.busy and time.monotonic() < deadline:
            time.sleep(0.2)  # another runner is pruning this target; what it leaves is for the next batch
            continue
        total.add(batch)
        if not batch.rows:
            return total


def past_retention(store: StateStore, target: str, retention: Retention, now: float | None = None) -> Pruned:
    """What `prune_all` would delete now (a dry run: nothing is deleted)."""
    store.ensure_schema()
    moment = time.time() if now is None else now
    queries = (
        (
            f"SELECT COUNT(*), COALESCE(SUM(checks), 0) FROM {store.table('runs')}",
            "finished <",
            retention.results,
        ),
        (f"SELECT COUNT(*), 0 FROM {store.table('drills')}", "started <", retention.drills),
        (f"SELECT COUNT(*), 0 FROM {store.table('silences')}", "ends <=", 0.0),
    )
    counts = []
    with store.transaction() as cur:
        for select, column, keep in queries:
            cur.execute(store.sql(f"{select} WHERE target = ? AND {column} ?"), (target, moment - keep))
            counts.append(tuple(int(n) for n in cur.fetchone()))
    (runs, results), (drills, _), (silences, _) = counts
    return Pruned(results=results, runs=runs, drills=drills, silences=silences)


def prune_after_run(store: StateStore, target: str, retention: Retention) -> list[str]:
    """One batch after a run; a failure is said (the run's verdicts stand), never raised."""
    try:
        prune_batch(store, target, retention)
    except StateError as exc:
        return [f"pruning the state store of {target}: {redact(str(exc))} (the next run tries again)"]
    return []


def vacuum_sqlite(store: StateStore) -> bool:
    """Rewrite a SQLite store in incremental auto-vacuum mode (a store made before it), giving all free
    space back; holds the file for the whole rewrite. False for PostgreSQL (its autovacuum reuses space)."""
    path = getattr(store, "path", None)
    if path is None:
        return False
    try:
        connection = sqlite3.connect(path, timeout=LOCK_TIMEOUT, isolation_level=None)
        try:
            connection.execute("PRAGMA auto_vacuum=INCREMENTAL")
            connection.execute("VACUUM")
        finally:
            connection.close()
    except sqlite3.Error as exc:
        raise StateUnavailable(f"vacuuming the state store {store.where} failed: {exc}") from None
    return True
