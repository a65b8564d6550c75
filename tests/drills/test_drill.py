"""Full drills into a url sandbox on the local server: good dumps restore and verify; evidence is recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.backups.pgdumps import Dumps, SourceDb, assert_no_drill_database_left, drill_databases, place
from tests.drills.helpers import evidence_lines, run_drill


@pytest.mark.parametrize("which", ["plain_gz", "plain", "custom", "directory"])
def test_good_dump_restores_and_verifies(dumps: Dumps, tmp_path: Path, reports: Path, which: str) -> None:
    backup = place(getattr(dumps, which), tmp_path / "backups")
    before = drill_databases()
    facts, problems = run_drill(tmp_path, tmp_path / "backups", {"rto": "1h", "jobs": 2})
    assert problems == []
    assert [s.name for s in facts.steps] == ["find", "integrity", "sandbox", "restore", "verify", "teardown"]
    assert all(step.ok for step in facts.steps)
    assert facts.verification.row_counts == {"clients": 400, "bookings": 3000, "public.invoices": 2000}
    assert facts.verification.queries["revision"] == "0086"
    assert facts.verification.data_lag_s is not None
    assert 3600 <= facts.verification.data_lag_s < 4 * 3600
    assert facts.restore is not None
    assert facts.restore.program == ("psql" if which.startswith("plain") else "pg_restore")
    assert_no_drill_database_left(before)  # dropped at teardown
    (record,) = evidence_lines(reports)
    assert record["verdict"] == "passed"
    assert record["target"] == "prod"
    assert record["entry"] == "db"
    assert record["file"] == str(backup)
    assert record["size"] == facts.backup.newest.size  # type: ignore[union-attr]
    assert record["rows_checked"] == 5400
    assert record["rto_target_s"] == 3600
    assert 0 < record["rto_s"] < 3600
    assert set(record["steps"]) == {"find", "integrity", "sandbox", "restore", "verify", "teardown"}
    assert record["data_lag_s"] > 3600
    assert record["sandbox"] == "url"
    assert record["database"].startswith("opsverify_drill_")
    if which != "directory":
        assert len(record["sha256"]) == 64


def test_verification_failures_are_each_named(dumps: Dumps, tmp_path: Path) -> None:
    place(dumps.custom, tmp_path / "b")
    expect = {
        "tables": ["bookings", "payments"],
        "min_rows": {"bookings": 5000},
        "queries": {
            "revision": {"sql": "select version_num from alembic_version", "equals": "0087"},
            # "0086" is text: it is not the number 86 (the old drill comparator said it was)
            "revision-number": {"sql": "select version_num from alembic_version", "equals": 86},
            "cancelled": {"sql": "select count(*) from bookings where status = 'cancelled'", "max": 10},
            "broken": {"sql": "select nope from bookings", "min": 0},
        },
        "freshness": {"sql": "select max(created_at) from bookings", "max_lag": "30m"},
    }
    facts, problems = run_drill(tmp_path, tmp_path / "b", {"expect": expect})
    assert problems[0] == (
        "restored database: lacks expected table payments; is this a dump of the right database?"
    )
    assert (
        "table bookings: expected at least 5000 rows (min_rows), got 3000 rows after the restore" in problems
    )
    revision = "(select version_num from alembic_version)"
    assert f'query revision: expected "0087", got "0086" {revision}' in problems
    assert f'query revision-number: expected 86, got "0086" {revision}' in problems
    cancelled = "(select count(*) from bookings where status = 'cancelled')"
    assert f"query cancelled: expected <= 10, got 750 {cancelled}" in problems
    assert any(p.startswith('query broken: column "nope" does not exist') for p in problems)
    lag = next(p for p in problems if p.startswith("freshness:"))
    assert lag.startswith("freshness: expected newest row at most 30m old (max_lag), got ")
    assert lag.endswith("; restoring this backup would lose that much data (RPO)")
    assert not next(s for s in facts.steps if s.name == "verify").ok


def test_rto_exceeded(dumps: Dumps, tmp_path: Path, reports: Path) -> None:
    place(dumps.plain_gz, tmp_path / "b")
    _facts, problems = run_drill(tmp_path, tmp_path / "b", {"rto": "1ms", "timeout": "1h"})
    (problem,) = problems
    assert problem.startswith("drill: expected at most 1ms (rto), got ")
    assert " from start to verified (slowest step: " in problem
    assert evidence_lines(reports)[0]["verdict"] == "failed"


def test_compare_to_production_counts(dumps: Dumps, source_db: SourceDb, tmp_path: Path) -> None:
    place(dumps.plain_gz, tmp_path / "b")
    postgres = {"main": {"url": source_db.url}}
    expect = {"tables": ["bookings", "clients"], "compare_to": "main", "count_tolerance_pct": 5}
    facts, problems = run_drill(tmp_path, tmp_path / "b", {"expect": expect}, postgres)
    assert problems == []
    assert facts.verification.production_counts == {"bookings": 3000, "clients": 400}


def test_compare_to_outside_tolerance(dumps: Dumps, tmp_path: Path) -> None:
    """Production (here: another database) has grown well past the backup: the drill says by how much."""
    import psycopg

    from tests.backups.pgdumps import SCHEMA, create_database, drop_database, unique_name

    name = unique_name("opsverify_prod")
    url = create_database(name, SCHEMA)
    try:
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(
                "insert into clients (name, email, created_at) select 'n', 'n' || g, now() from generate_series(1, 100) g"
            )
        place(dumps.plain_gz, tmp_path / "b")
        expect = {"tables": ["clients"], "compare_to": "main", "count_tolerance_pct": 10}
        _facts, problems = run_drill(tmp_path, tmp_path / "b", {"expect": expect}, {"main": {"url": url}})
        assert problems == [
            "table clients: expected within 10% (count_tolerance_pct), "
            "got 400 rows restored vs 500 in production (main), 20.0% apart"
        ]
    finally:
        drop_database(name)


def test_compare_to_unknown_entry(dumps: Dumps, tmp_path: Path) -> None:
    place(dumps.plain_gz, tmp_path / "b")
    expect = {"tables": ["clients"], "compare_to": "mian"}
    _facts, problems = run_drill(tmp_path, tmp_path / "b", {"expect": expect})
    assert problems == ["compare_to mian: the target has no postgres entry 'mian' (postgres entries: none)"]
