"""Two real processes pruning one store at once (and a runner recording beside them): no deadlock, every
row past retention deleted exactly once, nothing another target or a newer run needs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from opsverify.state.retention import DAY
from opsverify.state.store import StateStore, open_store

NOW = 1_800_000_000.0
OLD_RUNS, CHECKS = 1500, 8  # 12000 old result rows of prod: a few batches each way

PRUNE = """
import json, sys
from pathlib import Path
from opsverify.state.retention import Retention, prune_all
from opsverify.state.store import open_store
url, folder, target, days, now = sys.argv[1:]
store = open_store(url or None, Path(folder))
pruned = prune_all(store, target, Retention(results=float(days) * 86400, drills=400 * 86400), float(now))
print(json.dumps({"results": pruned.results, "runs": pruned.runs}))
"""

RECORD = """
import sys
from pathlib import Path
from opsverify.state.model import StoredResult
from opsverify.state.store import open_store
url, folder, now = sys.argv[1:]
store = open_store(url or None, Path(folder))
for run in range(30):
    rid = f"new-{run}"
    store.record_results(rid, "prod", [StoredResult(rid, "prod", "http:api", "passed", 0.1, float(now) - run)])
"""


def seed(store: StateStore) -> None:
    """Old runs of prod (past 10 days), and stage runs of 20 and 40 days (past 30 days: the 40-day ones)."""
    runs = [("prod", f"old-{n}", NOW - 11 * DAY - n, CHECKS) for n in range(OLD_RUNS)]
    runs += [("stage", f"s20-{n}", NOW - 20 * DAY, 2) for n in range(50)]
    runs += [("stage", f"s40-{n}", NOW - 40 * DAY, 2) for n in range(50)]
    results = [
        (run_id, target, f"c{i}", "passed", 0.1, finished, "", "{}")
        for target, run_id, finished, checks in runs
        for i in range(checks)
    ]
    with store.transaction() as cur:
        sql = store.sql
        insert = sql(f"INSERT INTO {store.table('results')} VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
        many = getattr(cur, "executemany")  # noqa: B009 - both drivers have it; the Protocol does not say so
        many(insert, results)
        many(sql(f"INSERT INTO {store.table('runs')} VALUES (?, ?, ?, ?)"), runs)


@pytest.mark.parametrize("backend", ["postgres", "sqlite"])
def test_two_processes_prune_at_once_beside_a_runner(backend: str, request, tmp_path: Path) -> None:
    url = request.getfixturevalue("state_pg_url") if backend == "postgres" else ""
    store = open_store(url or None, tmp_path)
    seed(store)
    started = [
        subprocess.Popen(
            [sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for code, args in (
            (PRUNE, [url, str(tmp_path), "prod", "10", str(NOW)]),
            (PRUNE, [url, str(tmp_path), "prod", "10", str(NOW)]),
            (PRUNE, [url, str(tmp_path), "stage", "30", str(NOW)]),
            (RECORD, [url, str(tmp_path), str(NOW)]),
        )
    ]
    outputs = [p.communicate(timeout=300) for p in started]
    assert [p.returncode for p in started] == [0, 0, 0, 0], outputs
    prod_a, prod_b, stage = (json.loads(out) for out, _ in outputs[:3])
    assert prod_a["results"] + prod_b["results"] == OLD_RUNS * CHECKS  # each deleted once, by one of them
    assert prod_a["runs"] + prod_b["runs"] == OLD_RUNS
    assert stage == {"results": 100, "runs": 50}
    assert sorted({r.run_id for r in store.recent_results("prod", 1000)}) == sorted(
        f"new-{n}" for n in range(30)
    )
    assert {r.run_id[:3] for r in store.recent_results("stage", 1000)} == {"s20"}
    with store.transaction() as cur:
        cur.execute(f"SELECT COUNT(*) FROM {store.table('results')}")
        assert cur.fetchone()[0] == 30 + 100
