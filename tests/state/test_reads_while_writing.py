"""Reading the store (`opsverify history`, `opsverify evidence`, a run's history feed) while another runner
writes: a store of the current schema is opened by one read, without the schema lock or any DDL, and the
reads take no write lock, so they never wait for the writer (SQLite and PostgreSQL)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import psycopg

from opsverify.state.model import StoredResult
from opsverify.state.store import StateStore, open_store

DONE_WITHIN = 120  # seconds: a guard against waiting for the writer (the lock timeout is 600 s), not a speed


def _seed(store: StateStore) -> None:
    store.record_results("run-1", "prod", [StoredResult("run-1", "prod", "http:api", "passed", 0.1, 1000.0)])


def _read_beside(read: Callable[[], list[StoredResult]]) -> list[StoredResult]:
    found: list[list[StoredResult]] = []
    reader = threading.Thread(target=lambda: found.append(read()), daemon=True)
    reader.start()
    reader.join(DONE_WITHIN)
    assert not reader.is_alive(), "the read waited for the writer's lock"
    return found[0]


def test_sqlite_reads_beside_a_writer_holding_the_lock(tmp_path: Path) -> None:
    _seed(open_store(None, tmp_path))
    writer = sqlite3.connect(tmp_path / "opsverify.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another runner in the middle of writing its results
    writer.execute("INSERT INTO runs VALUES ('prod', 'run-2', 2000.0, 0)")
    try:
        rows = _read_beside(lambda: open_store(None, tmp_path).history("prod", "http:api"))
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert [r.run_id for r in rows] == ["run-1"]


def test_postgres_opens_and_reads_beside_a_writer_and_a_schema_lock(state_pg_url: str) -> None:
    _seed(open_store(state_pg_url, Path(".")))
    with psycopg.connect(state_pg_url, connect_timeout=5) as writer:
        # a runner inserting its results (ROW EXCLUSIVE: what CREATE INDEX IF NOT EXISTS would wait for)
        # and another creating the schema (its advisory lock)
        writer.execute("SELECT pg_advisory_xact_lock(hashtext('opsverify:schema'))")
        writer.execute("INSERT INTO opsverify.runs VALUES ('prod', 'run-2', 2000.0, 0)")
        rows = _read_beside(lambda: open_store(state_pg_url, Path(".")).history("prod", "http:api"))
        writer.rollback()
    assert [r.run_id for r in rows] == ["run-1"]
