"""A store written by schema 1 (its DDL kept as a fixture) opens, migrates to schema 2 and keeps its data."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest

from opsverify.state.retention import DAY, Retention, prune_all
from opsverify.state.silences import active_silences
from opsverify.state.store import SCHEMA_VERSION, StateStore, open_store

SCHEMA_V1 = Path(__file__).with_name("fixtures") / "schema_v1.sql"


def v1_statements(prefix: str) -> list[str]:
    text = "\n".join(line for line in SCHEMA_V1.read_text().splitlines() if not line.startswith("--"))
    return [s.strip() for s in text.replace("{s}", prefix).split(";\n") if s.strip().rstrip(";")]


def sqlite_v1(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(folder / "opsverify.db") as db:
        db.execute("PRAGMA journal_mode=WAL")  # as schema 1 made it: WAL, no auto-vacuum
        for statement in v1_statements(""):
            db.execute(statement.rstrip(";"))


def postgres_v1(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("CREATE SCHEMA opsverify")
        for statement in v1_statements("opsverify."):
            db.execute(statement.rstrip(";").encode())


@pytest.fixture(params=["sqlite", "postgres"])
def migrated(request: pytest.FixtureRequest, tmp_path: Path) -> StateStore:
    if request.param == "sqlite":
        sqlite_v1(tmp_path)
        return open_store(None, tmp_path)
    url = request.getfixturevalue("state_pg_url")
    postgres_v1(url)
    return open_store(url, tmp_path)


def test_a_schema_1_store_migrates_and_keeps_its_data(migrated: StateStore) -> None:
    assert SCHEMA_VERSION == 2
    with migrated.transaction() as cur:
        cur.execute(f"SELECT value FROM {migrated.table('meta')} WHERE key = 'schema_version'")
        assert cur.fetchone()[0] == "2"
        cur.execute(f"SELECT target, run_id, finished, checks FROM {migrated.table('runs')} ORDER BY run_id")
        assert [tuple(r) for r in cur.fetchall()] == [
            ("prod", "run-1", 1000.0, 2),
            ("prod", "run-2", 2000.0, 2),
            ("stage", "run-3", 1500.0, 1),
        ]
    assert [(h.run_id, h.status, h.figures) for h in migrated.history("prod", "http:api")] == [
        ("run-2", "failed", {"latency_ms": 40.0}),
        ("run-1", "passed", {"latency_ms": 12.0}),
    ]
    assert [r.run_id for r in migrated.recent_results("prod", 1)] == ["run-2", "run-2"]
    with migrated.notify_state("prod", write=False) as state:
        assert (state.checks["http:api"].failures, state.checks["http:api"].recent) == (1, "PF")
    assert [s.id for s in active_silences(migrated, "prod")] == ["ab12cd34"]
    assert migrated.drills("prod")[0].record == {"rto_s": 42.0, "verdict": "passed"}


def test_a_migrated_store_records_and_prunes_like_a_new_one(migrated: StateStore) -> None:
    from opsverify.state.model import StoredResult

    migrated.record_results(
        "run-4", "prod", [StoredResult("run-4", "prod", "http:api", "passed", 0.1, 3000.0)]
    )
    assert [r.run_id for r in migrated.recent_results("prod", 1)] == ["run-4"]
    pruned = prune_all(migrated, "prod", Retention(results=1500.0, drills=400 * DAY), now=3000.0)
    assert (pruned.results, pruned.runs) == (2, 1)  # run-1 finished 2000 s before: past 1500 s
    assert [h.run_id for h in migrated.history("prod", "http:api")] == ["run-4", "run-2"]


def test_a_schema_1_sqlite_file_opened_twice_migrates_once(tmp_path: Path) -> None:
    sqlite_v1(tmp_path)
    open_store(None, tmp_path)
    store = open_store(None, tmp_path)
    with store.transaction() as cur:
        cur.execute("SELECT COUNT(*) FROM runs")
        assert cur.fetchone()[0] == 3
