"""`pytest -m daily --target FILE` over a backups section, run the way an operator runs it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.backups.pgdumps import Dumps, place
from tests.conftest import RunResult


def test_daily_backup_checks(run_checks: Callable[..., RunResult], dumps: Dumps, tmp_path: Path) -> None:
    fresh, stale = tmp_path / "fresh", tmp_path / "stale"
    place(dumps.plain_gz, fresh, "backup_20260102_020000.sql.gz", age_hours=2)
    place(dumps.plain_gz, stale, "backup_20260101_020000.sql.gz", age_hours=31.2)
    result = run_checks(
        f"""target: prod
backups:
  db-nightly:
    path: {fresh}
    pattern: "backup_*.sql.gz"
    max_age: 26h
    min_size: 10KB
  db-stale:
    path: {stale}
    pattern: "backup_*.sql.gz"
    max_age: 26h
    severity: critical
""",
        "-m",
        "daily",
    )
    assert result.returncode == 1, result.output
    assert "::backups:db-stale" in result.output
    assert "::backups:db-nightly" not in result.output  # only failures are listed
    assert "backups:db-stale failed on target prod:" in result.output
    assert (
        "  - newest backup backup_20260101_020000.sql.gz: expected at most 26h old (max_age, the RPO gate), "
        "got 31.2h old" in result.output
    )
    assert "Traceback" not in result.output


def test_dr_tier_selects_no_daily_backup_check(
    run_checks: Callable[..., RunResult], dumps: Dumps, tmp_path: Path
) -> None:
    place(dumps.plain_gz, tmp_path / "b", "backup_1.sql.gz")
    result = run_checks(f"target: prod\nbackups:\n  db: {{path: {tmp_path / 'b'}}}\n", "-m", "dr")
    assert result.returncode == 5, result.output  # no restore: block, so the dr tier has nothing to run
