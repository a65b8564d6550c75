"""Large plain dumps are checked in the read that restores them: one inflate feeds psql, the scan and the hash.

The tests lower the size from which a drill reads once (ONE_PASS_BYTES) so the small test dumps take that
path; the restore commits only when the whole read passed the integrity check.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from opsverify.kinds.restore import probe as drill_probe
from tests.backups.pgdumps import Dumps, assert_no_drill_database_left, drill_databases, place
from tests.drills.helpers import evidence_lines, run_drill


@pytest.fixture(autouse=True)
def read_once_from_any_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(drill_probe, "ONE_PASS_BYTES", 0)


@pytest.mark.parametrize("which", ["plain_gz", "plain"])
def test_a_good_dump_is_checked_and_restored_in_one_read(
    dumps: Dumps, tmp_path: Path, reports: Path, which: str
) -> None:
    backup = place(getattr(dumps, which), tmp_path / "backups")
    digest = hashlib.sha256(backup.read_bytes()).hexdigest()
    (backup.parent / f"{backup.name}.sha256").write_text(f"{digest}  {backup.name}\n")
    before = drill_databases()
    facts, problems = run_drill(tmp_path, tmp_path / "backups", {"rto": "1h"})
    assert problems == []
    assert [s.name for s in facts.steps] == ["find", "sandbox", "restore", "integrity", "verify", "teardown"]
    assert all(step.ok for step in facts.steps)
    assert facts.one_pass
    assert facts.verification.row_counts == {"clients": 400, "bookings": 3000, "public.invoices": 2000}
    inspection = facts.backup.inspection  # type: ignore[union-attr]
    assert inspection is not None
    assert inspection.trailer
    assert inspection.copies >= 3
    assert inspection.sha256 == digest
    assert facts.backup.checksum is not None  # type: ignore[union-attr]
    assert facts.backup.checksum.verified  # type: ignore[union-attr]
    assert_no_drill_database_left(before)
    (record,) = evidence_lines(reports)
    assert record["verdict"] == "passed"
    assert record["integrity_read"] == "with the restore"
    assert record["restore_client"] == "psql -X -q -v ON_ERROR_STOP=1 --single-transaction -f -"
    assert record["sha256"] == digest


def test_a_stream_broken_midway_stops_the_restore_uncommitted(
    dumps: Dumps, tmp_path: Path, reports: Path
) -> None:
    data = dumps.plain_gz.read_bytes()
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "backup.sql.gz").write_bytes(data[: len(data) * 3 // 4])
    before = drill_databases()
    facts, (problem,) = run_drill(tmp_path, tmp_path / "b")
    assert problem.startswith("backup.sql.gz: gzip stream is truncated")
    assert [(s.name, s.ok) for s in facts.steps] == [
        ("find", True),
        ("sandbox", True),
        ("restore", False),
        ("integrity", False),
        ("teardown", True),
    ]
    assert facts.restore is not None
    assert facts.restore.error is not None
    assert (
        "restore stopped: the backup failed its integrity check: backup.sql.gz: gzip stream is truncated"
        in (facts.restore.error)
    )
    assert facts.restore.returncode == -9  # psql was stopped before the end of its input: no commit
    assert_no_drill_database_left(before)  # the drill database was dropped
    record = evidence_lines(reports)[0]
    assert record["verdict"] == "failed"
    assert record["failed_step"] == "restore"
    assert record["integrity_read"] == "with the restore"


def test_a_checksum_mismatch_found_at_the_end_is_not_committed(dumps: Dumps, tmp_path: Path) -> None:
    backup = place(dumps.plain_gz, tmp_path / "b")
    (backup.parent / f"{backup.name}.sha256").write_text(f"{'0' * 64}  {backup.name}\n")
    facts, problems = run_drill(tmp_path, tmp_path / "b")
    assert any("sha256 mismatch" in problem for problem in problems), problems
    assert facts.restore is not None
    assert not facts.restore.ok
    assert "restore stopped: the backup failed its integrity check" in (facts.restore.error or "")
    assert facts.verification.row_counts == {}  # never verified: nothing was committed


def test_a_custom_archive_is_checked_beside_its_parallel_restore(
    dumps: Dumps, tmp_path: Path, reports: Path
) -> None:
    place(dumps.custom, tmp_path / "backups")
    before = drill_databases()
    facts, problems = run_drill(tmp_path, tmp_path / "backups", {"jobs": 2})
    assert problems == []
    assert [s.name for s in facts.steps] == ["find", "sandbox", "restore", "integrity", "verify", "teardown"]
    assert facts.verification.row_counts == {"clients": 400, "bookings": 3000, "public.invoices": 2000}
    assert facts.backup.inspection is not None  # type: ignore[union-attr]
    assert facts.backup.inspection.trailer  # type: ignore[union-attr]
    assert_no_drill_database_left(before)
    (record,) = evidence_lines(reports)
    assert record["integrity_read"] == "beside the restore"
    assert record["restore_client"] == "pg_restore --exit-on-error --jobs=2"
    assert len(record["sha256"]) == 64


def test_a_broken_custom_archive_fails_the_drill_and_drops_the_sandbox(dumps: Dumps, tmp_path: Path) -> None:
    data = dumps.custom.read_bytes()
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "backup_1.dump").write_bytes(data[: len(data) * 3 // 4])
    before = drill_databases()
    facts, problems = run_drill(tmp_path, tmp_path / "b", {"jobs": 2})
    assert any("pg_restore cannot read the archive" in problem for problem in problems), problems
    assert ("integrity", False) in [(s.name, s.ok) for s in facts.steps]
    assert facts.steps[-1].name == "teardown"
    assert_no_drill_database_left(before)


def test_a_custom_archive_beside_its_restore_is_read_once(dumps: Dumps, tmp_path: Path) -> None:
    """Beside a parallel restore the file is hashed and its table of contents read, no second decompression:
    pg_restore reads every data block, and the trailer is set once it has read them all."""
    backup = place(dumps.custom, tmp_path / "backups")
    digest = hashlib.sha256(backup.read_bytes()).hexdigest()
    (backup.parent / f"{backup.name}.sha256").write_text(f"{digest}  {backup.name}\n")
    facts, problems = run_drill(tmp_path, tmp_path / "backups", {"jobs": 2})
    assert problems == []
    inspection = facts.backup.inspection  # type: ignore[union-attr]
    assert inspection is not None
    assert inspection.inflated_bytes is None  # not decompressed by the integrity read
    assert inspection.create_tables == inspection.copies >= 3
    assert inspection.sha256 == digest
    assert inspection.trailer
    assert facts.backup.checksum is not None  # type: ignore[union-attr]
    assert facts.backup.checksum.verified  # type: ignore[union-attr]


def test_a_corrupt_data_block_found_by_the_restore_is_an_integrity_failure(
    dumps: Dumps, tmp_path: Path
) -> None:
    data = bytearray(dumps.custom.read_bytes())
    middle = len(data) * 2 // 3
    data[middle : middle + 64] = bytes(b ^ 0x5A for b in data[middle : middle + 64])
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "backup_1.dump").write_bytes(bytes(data))
    before = drill_databases()
    facts, problems = run_drill(tmp_path, tmp_path / "b", {"jobs": 2})
    assert any(p.startswith("backup_1.dump: pg_restore cannot read the archive") for p in problems), problems
    assert ("integrity", False) in [(s.name, s.ok) for s in facts.steps]
    assert facts.steps[-1].name == "teardown"
    assert_no_drill_database_left(before)


def test_a_database_error_of_a_custom_restore_is_not_blamed_on_the_archive(
    dumps: Dumps, tmp_path: Path
) -> None:
    import psycopg

    from tests.backups.pgdumps import admin_url, create_database, drop_database, pg_dump, unique_name, url_for

    name = unique_name("opsverify_test_role")
    role = unique_name("opsverify_owner")
    create_database(name, f"CREATE ROLE {role}; CREATE TABLE t (id int); ALTER TABLE t OWNER TO {role};")
    try:
        (tmp_path / "b").mkdir()
        archive = pg_dump(url_for(name), tmp_path / "b" / "backup_1.dump", "c")
    finally:
        drop_database(name)
        with psycopg.connect(admin_url(), autocommit=True, connect_timeout=10) as connection:
            connection.execute(f"DROP ROLE IF EXISTS {role}")  # type: ignore[arg-type]
    facts, problems = run_drill(tmp_path, archive.parent, {"jobs": 2})
    assert problems
    assert not any("cannot read the archive" in p for p in problems), problems
    assert any("role" in p for p in problems), problems
    assert facts.backup.inspection is not None  # type: ignore[union-attr]
    assert facts.backup.inspection.defects == []  # type: ignore[union-attr]
