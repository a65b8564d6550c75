"""The SQLite store: WAL, results and figures, the JSON import, a newer schema, redaction, no lost updates."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from opsverify.backups.files import BackupFile
from opsverify.kinds.backups.facts import BackupFacts
from opsverify.kinds.http.facts import HttpFacts
from opsverify.redaction import SECRETS
from opsverify.state.figures import figures_of
from opsverify.state.model import StoredResult
from opsverify.state.store import SCHEMA_VERSION, StateError, open_store

CANARY = "canary-secret-7f3a9c1e"


def result(check: str, status: str = "passed", finished: float = 1.0, **figures: float) -> StoredResult:
    return StoredResult("run-1", "prod", check, status, 0.5, finished, "", dict(figures))


def test_sqlite_file_in_wal_mode_keeps_results_and_figures(tmp_path) -> None:
    store = open_store(None, tmp_path)
    for run in range(3):
        store.record_results(
            f"run-{run}",
            "prod",
            [
                StoredResult(
                    f"run-{run}", "prod", "http:api", "passed", 0.1, 100.0 + run, "", {"latency_ms": run}
                )
            ],
        )
    with sqlite3.connect(tmp_path / "opsverify.db") as db:
        assert db.execute("pragma journal_mode").fetchone() == ("wal",)
    history = store.history("prod", "http:api")
    assert [h.run_id for h in history] == ["run-2", "run-1", "run-0"]
    assert history[0].figures == {"latency_ms": 2.0}
    assert store.history("other", "http:api") == []


def test_json_state_files_are_imported_on_first_run(tmp_path) -> None:
    legacy = {"version": 1, "checks": {"http:api": {"failures": 2, "alerted_at": 50.0, "status": "failed"}}}
    (tmp_path / "notify-prod.json").write_text(json.dumps(legacy))
    store = open_store(None, tmp_path)
    with store.notify_state("prod") as state:
        assert state.checks["http:api"].failures == 2
        assert state.checks["http:api"].alerted_at == 50.0
        state.checks["http:api"].failures = 0
    (tmp_path / "notify-prod.json").write_text(json.dumps(legacy))  # imported once, never again
    with open_store(None, tmp_path).notify_state("prod") as state:
        assert state.checks["http:api"].failures == 0


def test_a_newer_schema_is_refused_with_the_fix(tmp_path) -> None:
    open_store(None, tmp_path)
    with sqlite3.connect(tmp_path / "opsverify.db") as db:
        db.execute("update meta set value = ? where key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    with pytest.raises(StateError, match=r"newer opsverify.*upgrade opsverify"):
        open_store(None, tmp_path)


def test_secrets_never_reach_the_store(tmp_path) -> None:
    SECRETS.add(CANARY)
    store = open_store(None, tmp_path)
    store.record_results(
        "run-1",
        "prod",
        [StoredResult("run-1", "prod", "http:api", "failed", 0.1, 1.0, f"got 401 for token {CANARY}", {})],
    )
    (row,) = store.history("prod", "http:api")
    assert CANARY not in row.reason
    assert row.reason == "got 401 for token ***"  # the reason is stored, redacted
    for path in tmp_path.iterdir():
        assert CANARY.encode() not in path.read_bytes(), path


def test_figures_from_facts() -> None:
    http = HttpFacts(url="http://x", latencies_ms=[float(v) for v in range(1, 21)])
    assert figures_of(http) == {"latency_ms": 19.0}
    backup = BackupFacts(
        Path("/b"), "*.gz", checked_at=1000.0, files=[BackupFile(Path("/b/a.gz"), 4096, 400.0)]
    )
    assert figures_of(backup) == {"backup_bytes": 4096.0, "backup_age_s": 600.0}
    assert figures_of(object()) == {}


INCREMENT = """
import sys
from pathlib import Path
from opsverify.state.store import open_store
store = open_store(sys.argv[1] or None, Path(sys.argv[2]))
for _ in range(int(sys.argv[3])):
    with store.notify_state("prod") as state:
        state.check("http:api").failures += 1
"""


def increment_concurrently(url: str, folder: Path, processes: int = 4, each: int = 15) -> int:
    """Processes that each add 1 to one counter `each` times, all at once; the final count."""
    running = [
        subprocess.Popen([sys.executable, "-c", INCREMENT, url, str(folder), str(each)])
        for _ in range(processes)
    ]
    assert [p.wait(timeout=120) for p in running] == [0] * processes
    with open_store(url or None, folder).notify_state("prod") as state:
        return state.check("http:api").failures


def test_concurrent_processes_never_lose_an_update_sqlite(tmp_path) -> None:
    assert increment_concurrently("", tmp_path) == 60
