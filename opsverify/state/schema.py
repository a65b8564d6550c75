"""The state store's tables and indexes, and the migration of a store written by an earlier schema.

Every query a run makes reads through an index made for it, so a run costs the same on a store of a year as
on an empty one: `runs` (one row per run of a target) finds the last runs and the runs past retention
without reading `results`; `results` is read by its key (a run's results) or by `results_by_check`
(`opsverify history`, RTO trends); `drills_by_target` serves `opsverify evidence` and drill retention;
`silences_by_target` the silences in force.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

SCHEMA_VERSION = 2


class Cursor(Protocol):
    def execute(self, sql: str, params: Any = ()) -> Any: ...
    def executemany(self, sql: str, params: Any) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def fetchone(self) -> Any: ...


TABLES = (
    "meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "results (run_id TEXT NOT NULL, target TEXT NOT NULL, check_id TEXT NOT NULL, status TEXT NOT NULL,"
    " duration DOUBLE PRECISION NOT NULL, finished DOUBLE PRECISION NOT NULL, reason TEXT NOT NULL,"
    " figures TEXT NOT NULL, PRIMARY KEY (run_id, target, check_id))",
    "notify_state (target TEXT NOT NULL, check_id TEXT NOT NULL, failures INTEGER NOT NULL,"
    " alerted_at DOUBLE PRECISION, status TEXT NOT NULL, last_run DOUBLE PRECISION NOT NULL,"
    " recent TEXT NOT NULL DEFAULT '', PRIMARY KEY (target, check_id))",
    "silences (id TEXT PRIMARY KEY, target TEXT NOT NULL, pattern TEXT NOT NULL, ends DOUBLE PRECISION NOT NULL,"
    " reason TEXT NOT NULL, created DOUBLE PRECISION NOT NULL)",
    "drills (run_id TEXT NOT NULL, target TEXT NOT NULL, check_id TEXT NOT NULL, started DOUBLE PRECISION NOT NULL,"
    " record TEXT NOT NULL, PRIMARY KEY (run_id, target, check_id))",
    # schema 2: one row per run of a target (when it finished, how many results it kept)
    "runs (target TEXT NOT NULL, run_id TEXT NOT NULL, finished DOUBLE PRECISION NOT NULL,"
    " checks INTEGER NOT NULL, PRIMARY KEY (target, run_id))",
)
INDEXES = (
    "results_by_check ON results (target, check_id, finished)",
    "drills_by_target ON drills (target, started)",
    "runs_by_time ON runs (target, finished)",
    "silences_by_target ON silences (target, ends)",
)


def create(cur: Cursor, table: Callable[[str], str]) -> None:
    """Every table and index of the current schema that is not there yet."""
    for definition in TABLES:
        cur.execute(f"CREATE TABLE IF NOT EXISTS {table(definition)}")
    for index in INDEXES:
        name, _, rest = index.partition(" ON ")
        cur.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table(rest)}")


def migrate(cur: Cursor, table: Callable[[str], str], found: int) -> None:
    """Bring a store of schema `found` to SCHEMA_VERSION, keeping its data (after `create` made the new
    tables and indexes). 1 -> 2: `runs` filled from `results` (one read of `results`, once)."""
    if found < 2:
        cur.execute(
            f"INSERT INTO {table('runs')} (target, run_id, finished, checks) "
            f"SELECT target, run_id, MAX(finished), COUNT(*) FROM {table('results')} GROUP BY run_id, target"
        )
