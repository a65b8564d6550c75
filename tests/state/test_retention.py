"""Retention on both stores: rows past the limit go, newer stay (at, inside and outside the limit), drills
outlive results, expired silences go, a batch is bounded, a target prunes only its own rows, space is reclaimed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from opsverify.state import retention as retention_module
from opsverify.state.model import DrillRecord, StoredResult
from opsverify.state.retention import DAY, Retention, past_retention, prune_all, prune_batch
from opsverify.state.silences import active_silences, add_silence
from opsverify.state.store import StateStore, open_store

NOW = 1_800_000_000.0
KEEP = Retention(results=10 * DAY, drills=100 * DAY)


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> StateStore:
    url = request.getfixturevalue("state_pg_url") if request.param == "postgres" else None
    return open_store(url, tmp_path)


def record_run(
    store: StateStore, run_id: str, finished: float, checks: int = 2, target: str = "prod"
) -> None:
    store.record_results(
        run_id,
        target,
        [StoredResult(run_id, target, f"http:c{i}", "passed", 0.1, finished) for i in range(checks)],
    )


def run_ids(store: StateStore, target: str = "prod") -> list[str]:
    return sorted({r.run_id for r in store.recent_results(target, 1000)})


def test_results_at_and_inside_the_limit_stay_just_outside_go(store: StateStore) -> None:
    limit = NOW - KEEP.results
    record_run(store, "outside", limit - 0.001)
    record_run(store, "at", limit)
    record_run(store, "inside", limit + 0.001)
    assert past_retention(store, "prod", KEEP, NOW).results == 2
    pruned = prune_all(store, "prod", KEEP, NOW)
    assert (pruned.results, pruned.runs) == (2, 1)
    assert run_ids(store) == ["at", "inside"]
    assert store.history("prod", "http:c0", 10)[-1].run_id == "at"


def test_drills_outlive_results_and_go_after_their_own_limit(store: StateStore) -> None:
    for name, age in (("old", 100 * DAY + 1), ("kept", 100 * DAY), ("recent", 50 * DAY)):
        record_run(store, name, NOW - age)
        record = {"rto_s": 1.0}
        store.record_drills(name, "prod", [DrillRecord(name, "prod", "restore:db", NOW - age, record)])
    pruned = prune_all(store, "prod", KEEP, NOW)
    assert (pruned.results, pruned.drills) == (6, 1)
    assert run_ids(store) == []  # every result is past 10 days
    assert [d.run_id for d in store.drills("prod")] == ["kept", "recent"]


def test_expired_silences_go_active_ones_stay(store: StateStore) -> None:
    add_silence(store, "prod", "http:*", 3600, "deploy")
    add_silence(store, "prod", "tls:*", -1, "over")
    assert past_retention(store, "prod", KEEP).silences == 1
    assert prune_all(store, "prod", KEEP).silences == 1
    assert [s.pattern for s in active_silences(store, "prod")] == ["http:*"]
    assert past_retention(store, "prod", KEEP).silences == 0


def test_a_batch_deletes_whole_runs_up_to_its_bound(
    store: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retention_module, "RESULTS_BATCH", 5)
    for run in range(4):
        record_run(store, f"old-{run}", NOW - 20 * DAY + run)
    record_run(store, "big", NOW - 19 * DAY, checks=7)
    record_run(store, "new", NOW)
    batches = []
    while (batch := prune_batch(store, "prod", KEEP, NOW)).rows:
        batches.append((batch.results, batch.runs))
    assert batches == [(4, 2), (4, 2), (7, 1)]  # oldest first; a run larger than the bound goes alone
    assert run_ids(store) == ["new"]


def test_a_target_prunes_only_its_own_rows(store: StateStore) -> None:
    record_run(store, "prod-old", NOW - 20 * DAY)
    record_run(store, "stage-old", NOW - 20 * DAY, target="stage")
    prune_all(store, "prod", KEEP, NOW)
    assert run_ids(store) == []
    assert run_ids(store, "stage") == ["stage-old"]


def test_a_dry_run_counts_and_deletes_nothing(store: StateStore) -> None:
    record_run(store, "old", NOW - 20 * DAY, checks=3)
    pending = past_retention(store, "prod", KEEP, NOW)
    assert (pending.results, pending.runs) == (3, 1)
    assert run_ids(store) == ["old"]


def test_the_last_runs_are_read_from_runs_newest_first(store: StateStore) -> None:
    for run in range(5):
        record_run(store, f"run-{run}", NOW + run)
    record_run(store, "run-2", NOW + 9)  # recorded again: it now finished last
    got = store.recent_results("prod", 2, exclude_run="run-4")
    assert [r.run_id for r in got] == ["run-3", "run-3", "run-2", "run-2"]


def test_a_new_sqlite_store_gives_pruned_space_back_to_the_disk(tmp_path: Path) -> None:
    store = open_store(None, tmp_path)
    reason = "x" * 400
    for run in range(60):
        rows = [
            StoredResult(f"r{run}", "prod", f"c{i}", "failed", 0.1, NOW - 20 * DAY, reason) for i in range(50)
        ]
        store.record_results(f"r{run}", "prod", rows)
    db = tmp_path / "opsverify.db"
    with sqlite3.connect(db) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        assert connection.execute("PRAGMA auto_vacuum").fetchone() == (2,)  # incremental
    full = db.stat().st_size
    assert prune_all(store, "prod", KEEP, NOW).results == 3000
    with sqlite3.connect(db) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        free = connection.execute("PRAGMA freelist_count").fetchone()[0]
    assert db.stat().st_size < full / 4
    assert free == 0


def test_a_run_prunes_one_batch_of_its_target_past_retention(http_server, run_checks, tmp_path: Path) -> None:
    import time

    from tests.notify.e2e import Service, target_yaml

    service = Service(http_server).install()
    service.healthy = True
    store = open_store(None, tmp_path / "reports" / "state")
    record_run(store, "old", time.time() - 11 * DAY, target="shop-prod")
    record_run(store, "within", time.time() - 9 * DAY, target="shop-prod")
    record_run(store, "other-target", time.time() - 11 * DAY, target="stage")
    text = target_yaml(service.server.url, "  routes: []\n") + "state: {retention: {results: 10d}}\n"
    run = run_checks(text)
    assert run.returncode == 0, run.output
    kept = sorted({r.run_id for r in store.recent_results("shop-prod", 100)})
    assert len(kept) == 2
    assert "within" in kept
    assert "old" not in kept
    assert run_ids(store, "stage") == ["other-target"]


def test_the_last_runs_of_some_checks_only(store: StateStore) -> None:
    for run in range(3):
        record_run(store, f"run-{run}", NOW + run, checks=3)
    got = store.recent_results("prod", 2, checks=["http:c1"])
    assert [(r.run_id, r.check_id) for r in got] == [("run-1", "http:c1"), ("run-2", "http:c1")]
    assert store.recent_results("prod", 2, checks=[]) == []


def test_info_counts_rows_with_oldest_and_newest_and_sizes(store: StateStore) -> None:
    from opsverify.state.info import store_size, table_info

    record_run(store, "a", NOW - 5, checks=3)
    record_run(store, "b", NOW, checks=3)
    info = {t.name: t for t in table_info(store)}
    assert (info["results"].rows, info["results"].oldest, info["results"].newest) == (6, NOW - 5, NOW)
    assert (info["runs"].rows, info["drills"].rows, info["drills"].oldest) == (2, 0, None)
    sizes = dict(store_size(store))
    main = sizes.get("file", sizes.get("results", 0))
    assert main > 0
