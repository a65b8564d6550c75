"""The demo deployment's files and service, checked directly (the end-to-end run is in test_demo.py)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import tarfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from opsverify.demo.cli import MARKER, prepare_home
from opsverify.demo.data import (
    BACKUP_DAYS,
    ERROR_BURST,
    MESSAGES,
    STALE_BACKUP_DAYS,
    DemoLayout,
    build,
    iso,
)
from opsverify.demo.server import HEALTHY, DemoServer

NOW = datetime(2025, 10, 16, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> DemoLayout:
    return build(tmp_path_factory.mktemp("demo") / "home", NOW)


@pytest.fixture
def server(layout: DemoLayout) -> Iterator[DemoServer]:
    running = DemoServer(layout).start()
    yield running
    running.stop()


def rows(database: Path, sql: str) -> list[tuple[object, ...]]:
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def test_the_index_database_has_the_tables_the_runbook_implies(layout: DemoLayout) -> None:
    tables = {
        name for (name,) in rows(layout.database, "select name from sqlite_master where type = 'table'")
    }
    assert {"messages", "threads", "folders", "accounts", "attachments", "jobs", "schema_version"} <= tables
    assert rows(layout.database, "pragma integrity_check") == [("ok",)]
    assert rows(layout.database, "select count(*) from messages") == [(MESSAGES,)]
    (newest,) = rows(layout.database, "select max(received_at) from messages")[0]
    assert datetime.fromisoformat(str(newest)) > NOW - timedelta(hours=1)


def test_logs_are_json_lines_with_the_runbook_fields(layout: DemoLayout) -> None:
    files = sorted(layout.logs.glob("app.log*"))
    assert [f.name for f in files] == ["app.log", "app.log.2025-10-14", "app.log.2025-10-15"]
    records = [json.loads(line) for line in layout.log_file.read_text().splitlines()]
    assert {"ts", "level", "logger", "message", "pid", "thread"} <= set(records[0])
    assert {r["level"] for r in records} == {"INFO", "WARNING"}  # no ERROR in the last 24 hours
    older = [json.loads(line) for line in (layout.logs / "app.log.2025-10-14").read_text().splitlines()]
    assert [r["message"] for r in older if r["level"] == "ERROR"] == [
        "smtp send failed: connection timed out"
    ]


def test_backups_are_daily_archives_of_data_with_checksums(layout: DemoLayout) -> None:
    archives = sorted(layout.backups.glob("backup-*.tar.gz"), reverse=True)
    assert [a.name for a in archives] == [
        "backup-20251016.tar.gz",
        "backup-20251015.tar.gz",
        "backup-20251014.tar.gz",
    ]
    assert len(list(layout.backups.glob("emailops-*.db"))) == BACKUP_DAYS
    with tarfile.open(archives[0]) as archive:
        names = archive.getnames()
    assert {"data/emailops.db", "data/emailops-backup.db", "data/logs/app.log"} <= set(names)
    for path in [*archives, *layout.backups.glob("emailops-*.db")]:
        digest, name = path.with_name(path.name + ".sha256").read_text().split()
        assert (digest, name) == (hashlib.sha256(path.read_bytes()).hexdigest(), path.name)
    assert archives[0].stat().st_mtime == pytest.approx((NOW - timedelta(minutes=10)).timestamp())
    copy = layout.data / "emailops-backup.db"
    assert rows(copy, "select count(*) from messages") == [(MESSAGES,)]


def test_the_service_answers_like_the_runbook_healthcheck(server: DemoServer, layout: DemoLayout) -> None:
    health = requests.get(f"{server.url}/healthz", timeout=5)
    assert (health.status_code, health.json()) == (200, HEALTHY)
    assert requests.get(f"{server.url}/version", timeout=5).json()["schema_version"] == "0007"
    metrics = requests.get(f"{server.url}/metrics", timeout=5)
    assert metrics.headers["Content-Type"].startswith("text/plain")
    # Counted: the request start() serves before the service is up, and /version (not /healthz, /metrics).
    assert 'http_requests_total{path="/",status="200"} 1' in metrics.text
    assert 'http_requests_total{path="/version",status="200"} 1' in metrics.text
    assert "http_request_duration_seconds_count 2" in metrics.text
    logged = [json.loads(line) for line in layout.log_file.read_text().splitlines()][-3:]
    assert [r["message"] for r in logged] == ["GET /healthz 200", "GET /version 200", "GET /metrics 200"]


def test_an_unhealthy_service_answers_with_the_error_shape(layout: DemoLayout) -> None:
    server = DemoServer(layout, healthy=False).start()
    try:
        health = requests.get(f"{server.url}/healthz", timeout=5)
    finally:
        server.stop()
    assert health.status_code == 503
    assert health.json()["ok"] is False
    assert {"error", "error_type"} <= set(health.json())


def test_stale_backup_stops_only_the_index_copies(tmp_path: Path) -> None:
    stale = build(tmp_path / "stale", NOW, failure="stale-backup")
    copies = sorted(stale.backups.glob("emailops-*.db"), reverse=True)
    assert [c.name for c in copies] == [
        "emailops-20251014.db",
        "emailops-20251013.db",
        "emailops-20251012.db",
    ]
    newest = NOW - timedelta(days=STALE_BACKUP_DAYS, minutes=10)
    assert copies[0].stat().st_mtime == pytest.approx(newest.timestamp())
    archive = stale.backups / "backup-20251016.tar.gz"
    assert archive.stat().st_mtime == pytest.approx((NOW - timedelta(minutes=10)).timestamp())


def test_error_burst_logs_errors_in_the_last_hour(tmp_path: Path) -> None:
    burst = build(tmp_path / "burst", NOW, failure="error-burst")
    records = [json.loads(line) for line in burst.log_file.read_text().splitlines()]
    errors = [r for r in records if r["level"] == "ERROR"]
    assert len(errors) == ERROR_BURST
    assert {r["component"] for r in errors} == {"smtp"}
    assert min(r["ts"] for r in errors) > iso(NOW - timedelta(hours=1))
    assert [r["ts"] for r in records] == sorted(r["ts"] for r in records)
    with pytest.raises(ValueError, match="unknown demo failure 'flood'; choose one of healthcheck"):
        build(tmp_path / "flood", NOW, failure="flood")


def test_the_demo_only_replaces_a_folder_it_created(tmp_path: Path) -> None:
    home = tmp_path / "home"
    prepare_home(home)
    (home / "leftover").write_text("from the last run")
    prepare_home(home)
    assert [p.name for p in home.iterdir()] == [MARKER]
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "precious.txt").write_text("keep me")
    with pytest.raises(SystemExit, match="was not created by `opsverify demo`"):
        prepare_home(foreign)
    assert (foreign / "precious.txt").exists()


def test_an_installed_demo_runs_a_copy_of_its_target_in_its_own_folder(tmp_path) -> None:
    """Outside the source tree the shipped target is copied into the demo's folder (readable test ids)."""
    from opsverify.demo.cli import DEMO_TARGET, demo_target

    home = tmp_path / "reports" / "demo"
    home.mkdir(parents=True)
    copy = demo_target(tmp_path, home)
    assert copy == home / "demo.yaml"
    assert copy.read_bytes() == DEMO_TARGET.read_bytes()
    (tmp_path / "targets").mkdir()
    (tmp_path / "targets" / "demo.yaml").write_text("target: demo\n")
    assert demo_target(tmp_path, home) == tmp_path / "targets" / "demo.yaml"
