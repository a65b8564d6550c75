"""`pytest -m dr --target FILE`: the nightly drill as an operator runs it, and the fixtures for own drill checks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from opsverify.state.store import open_store
from tests.backups.pgdumps import (
    Dumps,
    SourceDb,
    admin_url,
    assert_no_drill_database_left,
    drill_databases,
    place,
)
from tests.conftest import RunResult


def target_text(folder: Path, source_db: SourceDb, min_bookings: int = 1000) -> str:
    return f"""target: prod
postgres:
  main: {{url: "{source_db.url}"}}
backups:
  db-nightly:
    path: {folder}
    pattern: "backup_*.sql.gz"
    max_age: 26h
    settle: 0s
    restore:
      sandbox: auto
      sandbox_url: {admin_url()}
      rto: 4h
      expect:
        tables: [bookings, clients]
        min_rows: {{bookings: {min_bookings}}}
        queries: {{revision: {{sql: "select version_num from alembic_version", equals: "0086"}}}}
        freshness: {{sql: "select max(created_at) from bookings", max_lag: 26h}}
        compare_to: main
"""


def test_nightly_drill_passes_and_leaves_evidence(
    run_checks: Callable[..., RunResult], dumps: Dumps, source_db: SourceDb, tmp_path: Path
) -> None:
    place(dumps.plain_gz, tmp_path / "backups", "backup_20260101_020000.sql.gz")
    before = drill_databases()
    result = run_checks(target_text(tmp_path / "backups", source_db), "-m", "dr")
    assert result.returncode == 0, result.output
    assert "1 passed" in result.output
    (line,) = (result.reports / "drills.jsonl").read_text().splitlines()
    record = json.loads(line)
    assert record["verdict"] == "passed"
    assert record["entry"] == "db-nightly"
    assert record["rows_checked"] == 3400
    assert_no_drill_database_left(before)
    # the same record is in the state store, and `opsverify evidence` shows it
    (stored,) = open_store(None, result.reports / "state").drills("prod")
    assert stored.check_id == "restore:db-nightly"
    assert stored.record["sha256"] == record["sha256"]
    assert stored.record["rto_s"] == record["rto_s"]
    assert list(stored.record["steps"]) == DRILL_STEPS[: len(stored.record["steps"])]
    shown = subprocess.run(
        [
            sys.executable,
            "-m",
            "opsverify",
            "evidence",
            "--target",
            str(tmp_path / "target.yaml"),
            "--format",
            "json",
        ],
        cwd=tmp_path,
        env={
            **os.environ,
            "OPSVERIFY_REPORTS_DIR": str(result.reports),
            "OPSVERIFY_STATE_DIR": str(result.reports / "state"),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    (drill,) = json.loads((result.reports / "evidence.json").read_text())["drills"]
    assert drill["rows_checked"] == 3400
    assert drill["verdict"] == "passed"
    assert drill["restore_program"]
    results = [json.loads(p.read_text()) for p in (result.reports / "allure-results").glob("*-result.json")]
    (drill,) = [
        r
        for r in results
        if "restore:db-nightly"
        in r.get("name", "") + r.get("fullName", "") + json.dumps(r.get("parameters", []))
    ]
    steps, attachments = collect(drill)
    assert [s.split(":")[0] for s in steps if s.split(":")[0] in DRILL_STEPS] == DRILL_STEPS
    assert "drill evidence" in attachments


DRILL_STEPS = ["find", "integrity", "sandbox", "restore", "verify", "teardown"]


def collect(node: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Step names and attachment names of an Allure result, nested steps included, in order."""
    steps = []
    attachments = [a["name"] for a in node.get("attachments", [])]
    for step in node.get("steps", []):
        steps.append(step["name"])
        inner_steps, inner_attachments = collect(step)
        steps += inner_steps
        attachments += inner_attachments
    return steps, attachments


def test_failed_drill_message(
    run_checks: Callable[..., RunResult], dumps: Dumps, source_db: SourceDb, tmp_path: Path
) -> None:
    place(dumps.plain_gz, tmp_path / "backups", "backup_20260101_020000.sql.gz")
    result = run_checks(target_text(tmp_path / "backups", source_db, min_bookings=10_000), "-m", "dr")
    assert result.returncode == 1, result.output
    assert "restore:db-nightly failed on target prod:" in result.output
    assert (
        "  - table bookings: expected at least 10000 rows (min_rows), got 3000 rows after the restore"
        in result.output
    )
    assert "step restore: " in result.output


USER_CHECKS = """
import pytest


@pytest.mark.dr
def test_restored_bookings(sandbox_postgres):
    db = sandbox_postgres("db-nightly")
    assert db.execute("select count(*) from bookings").fetchone()[0] == 3000
    db.execute("delete from invoices")  # a throwaway copy: writes are fine


def test_latest(latest_backup):
    backup = latest_backup("db-nightly")
    assert backup.name == "backup_20260101_020000.sql.gz"
    assert backup.format == "pg-plain-gz"
    assert 3000 < backup.age_seconds < 4000


def test_unknown_entry(latest_backup):
    latest_backup("nope")
"""


def test_fixtures_for_own_drill_checks(
    run_checks: Callable[..., RunResult], dumps: Dumps, source_db: SourceDb, tmp_path: Path
) -> None:
    """A hand-written test in a folder of its own uses the plugin's fixtures: no -p, no rootdir, no repo."""
    place(dumps.plain_gz, tmp_path / "backups", "backup_20260101_020000.sql.gz")
    (tmp_path / "test_mine.py").write_text(USER_CHECKS)
    before = drill_databases()
    # -k test_mine: only the hand-written tests, not the target's own entries collected beside them.
    result = run_checks(target_text(tmp_path / "backups", source_db), "test_mine.py", "-k", "test_mine")
    assert result.returncode == 1, result.output
    assert "1 failed, 2 passed" in result.output, result.output  # pytest's own closing line
    assert "target prod has no backups entry 'nope'; it has db-nightly" in result.output
    assert_no_drill_database_left(before)
