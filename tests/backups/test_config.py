"""The `backups:` section: keys validated with the fix in the message; size, shrink and retention rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from opsverify.config.target import load_target
from opsverify.config.yamlsource import TargetError
from opsverify.kinds.backups.model import BackupCheck
from opsverify.kinds.backups.probe import probe
from opsverify.kinds.backups.verdict import judge
from opsverify.kinds.base import ProbeContext
from tests.backups.pgdumps import Dumps, place


def load(tmp_path: Path, section: str) -> Any:
    path = tmp_path / "t.yaml"
    path.write_text(f"target: prod\nbackups:\n{section}")
    return load_target(str(path))


def test_design_example_loads(tmp_path: Path) -> None:
    target = load(
        tmp_path,
        """  db-nightly:
    path: /opt/backups/postgres
    pattern: "backup_*.sql.gz"
    format: auto
    max_age: 26h
    min_size: 1MB
    checksum: auto
    retention: {min_count: 7, max_age: 35d}
    restore:
      sandbox: auto
      sandbox_url: postgresql://postgres@scratch:5432/postgres
      jobs: 2
      expect:
        tables: [bookings, clients]
        min_rows: {bookings: 1000}
        queries: {revision: {sql: "select version_num from alembic_version", equals: "0086"}}
        freshness: {sql: "select max(created_at) from bookings", max_lag: 26h}
        compare_to: main
        count_tolerance_pct: 5
      rto: 4h
""",
    )
    entry = target.model.backups["db-nightly"]
    assert entry.max_age == 26 * 3600
    assert entry.min_size == 1_000_000
    assert entry.restore.rto == 4 * 3600
    assert [c.id for c in target.all_checks()] == ["backups:db-nightly", "restore:db-nightly"]
    assert [c.tiers for c in target.all_checks()] == [("daily",), ("dr",)]


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (
            "  a: {path: /b, formt: auto}\n",
            "backups.a.formt: unknown key 'formt'; remove it or fix its spelling (did you mean 'format'?)",
        ),
        (
            "  a: {path: /b, format: zip}\n",
            "backups.a.format: expected one of 'auto', 'pg-plain', 'pg-plain-gz'",
        ),
        (
            "  a: {path: /b, max_age: soon}\n",
            "backups.a.max_age: expected a duration like 30s, 5m, 26h or 7d, got 'soon'",
        ),
        (
            "  a: {path: /b, pattern: /opt/b/*.gz}\n",
            "expected a file-name glob like backup_*.sql.gz (put the folder in `path`)",
        ),
        ("  a: {path: /b, restore: {sandbox: url}}\n", "sandbox: url needs `sandbox_url:`"),
        (
            "  a: {path: /b, restore: {expect: {tables: ['drop table x;']}}}\n",
            "expected a table name like bookings or public.bookings",
        ),
        ("  a: {path: /b, size_history: 0}\n", "backups.a.size_history: "),
        ("  a: {path: /b, max_growth_pct: -5}\n", "backups.a.max_growth_pct: "),
        ("  a: {path: /b, restore: {rto_warn_pct: 120}}\n", "backups.a.restore.rto_warn_pct: "),
        ("  a: {path: /b, restore: {rto_trend_runs: many}}\n", "backups.a.restore.rto_trend_runs: "),
        (
            "  a: {path: /b, restore: {sandbox: podman}}\n",
            "backups.a.restore.sandbox: expected one of 'auto', 'url', 'docker' or 'local', got 'podman'",
        ),
    ],
)
def test_bad_values_name_key_and_fix(tmp_path: Path, section: str, message: str) -> None:
    with pytest.raises(TargetError) as raised:
        load(tmp_path, section)
    assert message in str(raised.value)
    assert "t.yaml:3" in str(raised.value)


def facts_for(folder: Path, **keys: Any) -> tuple[BackupCheck, list[str]]:
    entry = BackupCheck.model_validate({"path": str(folder), "settle": 0, **keys})
    return entry, [p.text for p in judge(entry, probe(entry, ProbeContext("prod"))).problems]


def test_min_size(dumps: Dumps, tmp_path: Path) -> None:
    place(dumps.plain_gz, tmp_path, "backup_1.sql.gz")
    _entry, problems = facts_for(tmp_path, min_size="1MB")
    (problem,) = problems
    assert problem.startswith("newest backup backup_1.sql.gz: expected at least 1.0MB (min_size), got ")
    assert problem.endswith("; the dump is smaller than any real one")


def test_shrink_against_the_previous_backup(dumps: Dumps, tmp_path: Path) -> None:
    place(dumps.plain, tmp_path, "backup_1.sql", age_hours=25)
    small = place(dumps.schema_only, tmp_path, "backup_2.sql", age_hours=1)
    _entry, problems = facts_for(tmp_path, allow_schema_only=True)
    (problem,) = problems
    assert problem.startswith(
        "newest backup backup_2.sql: expected at most 50% smaller (max_shrink_pct), got "
    )
    assert "smaller than the previous one backup_1.sql" in problem
    assert problem.endswith("; was data deleted, or was the dump cut short?")
    assert facts_for(tmp_path, allow_schema_only=True, max_shrink_pct=100)[1] == []
    assert small.exists()


def test_retention_count_and_pruning(dumps: Dumps, tmp_path: Path) -> None:
    for day in range(3):
        place(dumps.plain_gz, tmp_path, f"backup_{day}.sql.gz", age_hours=24 * day + 1)
    _entry, problems = facts_for(tmp_path, retention={"min_count": 7, "max_age": "36h"})
    assert problems == [
        f"backups matching * in {tmp_path}: expected at least 7 (retention.min_count), got 3; "
        "older backups were deleted too early",
        "oldest backup backup_2.sql.gz: expected at most 36h old (retention.max_age), got 2d old; "
        "old backups are not being pruned",
    ]


def test_unquoted_off_means_off(tmp_path: Path) -> None:
    target = load(tmp_path, "  a: {path: /b, checksum: off}\n")
    assert target.model.backups["a"].checksum == "off"
