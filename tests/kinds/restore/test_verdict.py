"""The restore drill's verdict from constructed facts (no sandbox): each problem it can produce, and a pass."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from opsverify.backups.files import BackupFile
from opsverify.backups.formats import Detected
from opsverify.backups.integrity import Inspection
from opsverify.kinds.backups.facts import BackupFacts
from opsverify.kinds.backups.model import BackupCheck
from opsverify.kinds.restore.facts import DrillFacts, DrillStep, Verification
from opsverify.kinds.restore.verdict import judge
from opsverify.problem import Problem

NOW = 1_800_000_000.0
FOLDER = Path("/var/backups/db")
REVISION = "select version_num from alembic_version"


def entry(expect: dict[str, Any] | None = None, **restore: Any) -> BackupCheck:
    return BackupCheck.model_validate(
        {
            "path": str(FOLDER),
            "restore": {
                "sandbox": "url",
                "sandbox_url": "postgresql://scratch/postgres",
                "expect": expect or {},
                **restore,
            },
        }
    )


def backup(defects: list[str] | None = None) -> BackupFacts:
    newest = BackupFile(FOLDER / "backup_1.sql.gz", 2_000_000, NOW - 3600)
    inspection = Inspection(
        "pg-plain-gz", Detected("pg-plain", gzip=True), create_tables=4, copies=4, defects=defects or []
    )
    return BackupFacts(FOLDER, "*", NOW, [newest], inspection=inspection)


def drill(verification: Verification | None = None, **keys: Any) -> DrillFacts:
    steps = [DrillStep("find", 0.1), DrillStep("restore", 12.0), DrillStep("verify", 0.5)]
    return DrillFacts(
        "prod", "db", NOW, backup(), steps=steps, verification=verification or Verification(), **keys
    )


def problems(entry: BackupCheck, facts: DrillFacts) -> list[str]:
    return [problem.text for problem in judge(entry, facts).problems]


def test_a_verified_drill_passes_and_keeps_its_evidence() -> None:
    found = Verification(
        tables={"bookings": True}, row_counts={"bookings": 3000}, queries={"revision": "0086"}
    )
    expect = {
        "tables": ["bookings"],
        "min_rows": {"bookings": 1000},
        "queries": {"revision": {"sql": REVISION, "equals": "0086"}},
    }
    judgement = judge(entry(expect, rto="1h"), drill(found, verified=True, rto_seconds=13.0))
    assert judgement.problems == []
    assert "backup /var/backups/db/backup_1.sql.gz (2.0MB)" in judgement.evidence
    assert "RTO measured: 13.0s" in judgement.evidence


def test_no_backup_is_the_backup_checks_problem() -> None:
    error = f"backup folder {FOLDER} does not exist: is the backup volume mounted, and is `path` right?"
    facts = DrillFacts("prod", "db", NOW, BackupFacts(FOLDER, "*", NOW, error=error))
    assert judge(entry(), facts).problems == [Problem("", error)]


def test_a_broken_backup_stops_the_verdict_before_verification() -> None:
    facts = drill(Verification(tables={"bookings": False}))
    facts.backup = backup(defects=["gzip stream is truncated"])
    assert problems(entry({"tables": ["bookings"]}), facts) == ["backup_1.sql.gz: gzip stream is truncated"]


def test_a_failed_step_is_its_error() -> None:
    error = 'restore failed (psql exited with status 3): ERROR:  role "ghost" does not exist'
    assert judge(entry(), drill(error=error)).problems == [Problem("", error)]


def test_verification_error() -> None:
    found = Verification(error="cannot connect to the restored database: connection refused")
    assert problems(entry(), drill(found)) == ["cannot connect to the restored database: connection refused"]


def test_missing_tables_and_too_few_rows() -> None:
    found = Verification(tables={"bookings": True, "payments": False}, row_counts={"bookings": 3000})
    expect = {"tables": ["bookings", "payments"], "min_rows": {"bookings": 5000}}
    assert problems(entry(expect), drill(found)) == [
        "restored database: lacks expected table payments; is this a dump of the right database?",
        "table bookings: expected at least 5000 rows (min_rows), got 3000 rows after the restore",
    ]


@pytest.mark.parametrize(
    ("query", "found", "expected"),
    [
        # The one comparator: text "0086" is not the number 86 (the drill's own comparator said it was).
        (
            {"equals": 86},
            Verification(queries={"q": "0086"}),
            f'query q: expected 86, got "0086" ({REVISION})',
        ),
        (
            {"equals": "0087"},
            Verification(queries={"q": "0086"}),
            f'query q: expected "0087", got "0086" ({REVISION})',
        ),
        ({"max": 10}, Verification(queries={"q": 750}), f"query q: expected <= 10, got 750 ({REVISION})"),
        (
            {"min": 1},
            Verification(queries={"q": "n/a"}),
            f'query q: expected a number, got "n/a" ({REVISION})',
        ),
        ({"equals": "0086"}, Verification(), f'query q: expected = "0086", got no rows ({REVISION})'),
        (
            {"min": 0},
            Verification(query_errors={"q": 'column "nope" does not exist'}),
            f'query q: column "nope" does not exist; the query was {REVISION}',
        ),
    ],
)
def test_queries_use_the_shared_comparator(query: dict[str, Any], found: Verification, expected: str) -> None:
    assert problems(entry({"queries": {"q": {"sql": REVISION, **query}}}), drill(found)) == [expected]


def test_equal_query_values_pass() -> None:
    expect = {"queries": {"a": {"sql": REVISION, "equals": "0086"}, "b": {"sql": "x", "equals": 86}}}
    assert problems(entry(expect), drill(Verification(queries={"a": "0086", "b": 86.0}))) == []


def test_freshness_lag_is_the_measured_rpo() -> None:
    newest = datetime(2027, 1, 15, 6, 0, tzinfo=UTC)
    found = Verification(newest_row=newest, data_lag_s=2 * 3600)
    expect = {"freshness": {"sql": "select max(created_at) from bookings", "max_lag": "30m"}}
    assert problems(entry(expect), drill(found)) == [
        "freshness: expected newest row at most 30m old (max_lag), got 2h old (2027-01-15T06:00:00+00:00); "
        "restoring this backup would lose that much data (RPO)"
    ]
    failed = Verification(
        freshness_error="the query returned None, expected a timestamp (an empty table returns NULL)"
    )
    assert problems(entry(expect), drill(failed)) == [
        "freshness: the query returned None, expected a timestamp (an empty table returns NULL)"
    ]


def test_row_counts_compared_to_production() -> None:
    found = Verification(row_counts={"clients": 400}, production_counts={"clients": 500})
    expect = {"tables": ["clients"], "compare_to": "main", "count_tolerance_pct": 10}
    assert problems(entry(expect), drill(found)) == [
        "table clients: expected within 10% (count_tolerance_pct), got 400 rows restored vs 500 in production "
        "(main), 20.0% apart"
    ]
    unknown = Verification(compare_error="the target has no postgres entry 'main' (postgres entries: none)")
    assert problems(entry(expect), drill(unknown)) == [
        "compare_to main: the target has no postgres entry 'main' (postgres entries: none)"
    ]


def test_file_counts_compared_to_a_folder() -> None:
    expect = {"compare_dir": "/srv/uploads", "count_tolerance_pct": 10}
    assert problems(entry(expect), drill(Verification(files=40, compare_files=60))) == [
        "restored archive: expected within 10% (count_tolerance_pct), got 40 files vs 60 in /srv/uploads, 33.3% apart"
    ]
    assert problems(entry(expect), drill(Verification(files=40))) == [
        "compare_dir /srv/uploads: does not exist or cannot be read"
    ]


def test_rto_exceeded_names_the_slowest_step() -> None:
    facts = drill(verified=True, rto_seconds=12.6)
    assert problems(entry(rto="10s"), facts) == [
        "drill: expected at most 10s (rto), got 12.6s from start to verified (slowest step: restore)"
    ]


@pytest.mark.parametrize(
    ("missing", "text"),
    [
        (["payments"], "lacks expected table payments"),
        (["payments", "refunds"], "lacks expected tables payments, refunds"),
    ],
)
def test_missing_tables_are_named_together(missing: list[str], text: str) -> None:
    found = Verification(tables={"bookings": True} | dict.fromkeys(missing, False))
    (problem,) = judge(entry({"tables": ["bookings", *missing]}), drill(found)).problems
    assert problem.found == text


def test_every_failing_query_is_reported_beside_a_missing_table() -> None:
    found = Verification(tables={"bookings": False}, queries={"a": 5, "b": 7})
    expect = {
        "tables": ["bookings"],
        "queries": {"a": {"sql": "select 1", "max": 1}, "b": {"sql": "select 2", "max": 1}},
    }
    assert problems(entry(expect), drill(found)) == [
        "restored database: lacks expected table bookings; is this a dump of the right database?",
        "query a: expected <= 1, got 5 (select 1)",
        "query b: expected <= 1, got 7 (select 2)",
    ]


def test_a_production_table_that_was_not_counted_after_the_restore_skips_only_itself() -> None:
    found = Verification(row_counts={"payments": 50}, production_counts={"bookings": 10, "payments": 100})
    expect = {"compare_to": "main", "count_tolerance_pct": 10}
    assert problems(entry(expect), drill(found)) == [
        "table payments: expected within 10% (count_tolerance_pct), got 50 rows restored vs 100 in production "
        "(main), 50.0% apart"
    ]


def test_an_empty_backup_folder_is_the_backup_checks_problem() -> None:
    empty = BackupFacts(FOLDER, "*", NOW)
    facts = DrillFacts("prod", "db", NOW, empty, verification=Verification(tables={"bookings": False}))
    assert judge(entry({"tables": ["bookings"]}), facts).problems == [Problem("", empty.describe_empty())]


def test_a_backup_that_changed_while_read_comes_first_and_the_integrity_problems_follow() -> None:
    facts = drill(Verification(tables={"bookings": False}))
    facts.backup = backup(defects=["gzip stream is truncated"])
    facts.backup.changed_during_check = "backup_1.sql.gz changed while it was read (2.0MB -> 2.1MB)"
    assert problems(entry({"tables": ["bookings"]}), facts) == [
        "backup_1.sql.gz changed while it was read (2.0MB -> 2.1MB)",
        "backup_1.sql.gz: gzip stream is truncated",
    ]


def test_a_drill_without_a_local_backup_is_judged_on_its_verification() -> None:
    """A restic or Borg drill restores from the tool's repository: no backup folder was read."""
    found = Verification(tables={"bookings": False})
    facts = DrillFacts("prod", "db", NOW, None, verification=found, verified=True)
    assert problems(entry({"tables": ["bookings"]}), facts) == [
        "restored database: lacks expected table bookings; is this a dump of the right database?"
    ]


def test_an_rto_exceeded_before_any_step_was_timed_names_no_step() -> None:
    facts = DrillFacts("prod", "db", NOW, backup(), verified=True, rto_seconds=12.6)
    assert problems(entry(rto="10s"), facts) == [
        "drill: expected at most 10s (rto), got 12.6s from start to verified (slowest step: ?)"
    ]
