"""What a state store holds, for `opsverify state info`: rows per table, oldest and newest, size on disk."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from opsverify.state.base import StateStore
from opsverify.state.store import SqliteStore

# table, the column of its time, the table that column is read from (the results' times from `runs`:
# the same values through an index, instead of reading millions of result rows)
_TIMES = (
    ("results", "finished", "runs"),
    ("runs", "finished", "runs"),
    ("drills", "started", "drills"),
    ("silences", "ends", "silences"),
    ("notify_state", "last_run", "notify_state"),
)


@dataclass(frozen=True)
class TableInfo:
    name: str
    rows: int
    oldest: float | None
    newest: float | None
    column: str  # what oldest/newest are: finished, started, ends, last_run


def table_info(store: StateStore) -> list[TableInfo]:
    """Rows, oldest and newest of each table (of every target in the store)."""
    store.ensure_schema()
    found = []
    with store.transaction() as cur:
        for name, column, source in _TIMES:
            cur.execute(f"SELECT COUNT(*) FROM {store.table(name)}")
            rows = int(cur.fetchone()[0])
            cur.execute(f"SELECT MIN({column}), MAX({column}) FROM {store.table(source)}")
            oldest, newest = cur.fetchone()
            found.append(
                TableInfo(
                    name,
                    rows,
                    None if oldest is None else float(oldest),
                    None if newest is None else float(newest),
                    column,
                )
            )
    return found


def store_size(store: StateStore) -> list[tuple[str, int]]:
    """(what, bytes) of the store on disk: SQLite's file, its WAL and its free pages; PostgreSQL's tables
    with their indexes."""
    if isinstance(store, SqliteStore):
        return _sqlite_size(store.path)
    store.ensure_schema()
    sizes = []
    with store.transaction() as cur:
        for name, _, _ in _TIMES:
            cur.execute("SELECT pg_total_relation_size(%s)", (store.table(name),))
            sizes.append((name, int(cur.fetchone()[0])))
    return sizes


def _sqlite_size(path: Path) -> list[tuple[str, int]]:
    wal = path.with_name(path.name + "-wal")
    sizes = [("file", path.stat().st_size), ("wal", wal.stat().st_size if wal.exists() else 0)]
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        free = connection.execute("PRAGMA freelist_count").fetchone()[0]
        page = connection.execute("PRAGMA page_size").fetchone()[0]
        mode = connection.execute("PRAGMA auto_vacuum").fetchone()[0]
    finally:
        connection.close()
    return [*sizes, ("free", int(free) * int(page)), ("auto_vacuum", int(mode))]
