"""The corpus of broken backups: each one fails the daily check with a message that says what is wrong.

Good backups (every pg_dump format) pass. The drill-only cases (wrong database, a restore that errors)
are in tests/drills/test_drill_failures.py.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import sqlite3
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from opsverify.kinds.backups.facts import BackupFacts
from opsverify.kinds.backups.model import BackupCheck
from opsverify.kinds.backups.probe import probe
from opsverify.kinds.backups.verdict import judge
from opsverify.kinds.base import ProbeContext
from tests.backups.pgdumps import Dumps, place, set_age


def check(folder: Path, **keys: Any) -> tuple[BackupCheck, BackupFacts, list[str]]:
    entry = BackupCheck.model_validate({"path": str(folder), "settle": 0, **keys})
    facts = probe(entry, ProbeContext("prod"))
    return entry, facts, [p.text for p in judge(entry, facts).problems]


@pytest.mark.parametrize("which", ["plain", "plain_gz", "custom", "directory"])
def test_good_dumps_pass(dumps: Dumps, tmp_path: Path, which: str) -> None:
    place(getattr(dumps, which), tmp_path)
    _entry, facts, problems = check(tmp_path, max_age="26h", min_size="10KB", checksum="auto")
    assert problems == []
    assert facts.inspection is not None
    assert facts.inspection.create_tables == 4
    assert facts.inspection.copies == 4


def truncated_gz(dumps: Dumps, folder: Path) -> None:
    data = dumps.plain_gz.read_bytes()
    (folder / "backup.sql.gz").write_bytes(data[: int(len(data) * 0.6)])


def empty_stream_gz(dumps: Dumps, folder: Path) -> None:
    (folder / "backup.sql.gz").write_bytes(gzip.compress(b""))


def zero_bytes(dumps: Dumps, folder: Path) -> None:
    (folder / "backup.sql.gz").write_bytes(b"")


def schema_only(dumps: Dumps, folder: Path) -> None:
    place(dumps.schema_only, folder, "backup.sql")


def missing_trailer(dumps: Dumps, folder: Path) -> None:
    lines = dumps.plain.read_bytes().splitlines(keepends=True)
    (folder / "backup.sql.gz").write_bytes(gzip.compress(b"".join(lines[: int(len(lines) * 0.9)])))


def custom_cut_at_half(dumps: Dumps, folder: Path) -> None:
    data = dumps.custom.read_bytes()
    (folder / "backup.dump").write_bytes(data[: len(data) // 2])


def custom_flipped_bytes(dumps: Dumps, folder: Path) -> None:
    data = bytearray(dumps.custom.read_bytes())
    middle = len(data) // 2
    for index in range(middle, middle + 64):
        data[index] ^= 0xFF
    (folder / "backup.dump").write_bytes(bytes(data))


def checksum_mismatch(dumps: Dumps, folder: Path) -> None:
    backup = place(dumps.plain_gz, folder, "backup.sql.gz")
    wrong = hashlib.sha256(b"another file").hexdigest()
    (folder / "backup.sql.gz.sha256").write_text(f"{wrong}  backup.sql.gz\n")
    set_age(backup, 1)


def tar_with_parent_member(dumps: Dumps, folder: Path) -> None:
    with tarfile.open(folder / "uploads.tar.gz", "w:gz") as archive:
        for name in ("uploads/a.pdf", "../../etc/cron.d/evil"):
            info = tarfile.TarInfo(name)
            info.size = 4
            archive.addfile(info, io.BytesIO(b"data"))


def corrupt_sqlite_page(dumps: Dumps, folder: Path) -> None:
    path = folder / "emailops-backup.db"
    connection = sqlite3.connect(path)
    with connection:
        connection.execute("create table messages (id integer primary key, subject text, body text)")
        connection.executemany(
            "insert into messages (subject, body) values (?, ?)",
            [(f"subject {i}", "body " * 40) for i in range(3000)],
        )
        connection.execute("create index messages_subject on messages (subject)")
    connection.close()
    data = bytearray(path.read_bytes())
    page = 4096
    start = page * (len(data) // page // 2)  # a page in the middle: table or index b-tree
    data[start : start + 100] = b"\xa5" * 100
    path.write_bytes(bytes(data))


CORPUS: dict[str, tuple[Callable[[Dumps, Path], None], dict[str, Any], str]] = {
    "truncated gz": (truncated_gz, {}, "gzip stream is truncated"),
    "empty-stream gz": (empty_stream_gz, {}, "inflates to 0 bytes (a gzip of an empty stream"),
    "zero bytes": (zero_bytes, {}, "is empty (0 bytes)"),
    "schema-only dump with the trailer": (
        schema_only,
        {},
        "schema-only dump: 4 CREATE TABLE but no COPY or INSERT",
    ),
    "missing trailer": (missing_trailer, {}, "no '-- PostgreSQL database dump complete' trailer at the end"),
    "custom cut at 50%": (custom_cut_at_half, {}, "pg_restore cannot read the archive"),
    "custom with flipped bytes": (custom_flipped_bytes, {}, "corrupt"),
    "checksum mismatch": (checksum_mismatch, {}, "sha256 mismatch: backup.sql.gz.sha256 says"),
    "tar with a ../ member": (
        tar_with_parent_member,
        {},
        "unsafe member paths (absolute or with ..): ../../etc/cron.d/evil",
    ),
    "corrupt sqlite page": (corrupt_sqlite_page, {}, "PRAGMA integrity_check failed"),
}


@pytest.mark.parametrize("case", list(CORPUS))
def test_broken_backup_fails_saying_what_is_wrong(dumps: Dumps, tmp_path: Path, case: str) -> None:
    build, keys, expected = CORPUS[case]
    build(dumps, tmp_path)
    for path in tmp_path.iterdir():
        set_age(path, 1)
    _entry, _facts, problems = check(tmp_path, **keys)
    assert any(expected in problem for problem in problems), f"{case}: {problems}"


def test_truncated_custom_passes_pg_restore_list_but_not_us(dumps: Dumps, tmp_path: Path) -> None:
    """Why a full read: `pg_restore --list` reads only the table of contents and exits 0 on this file."""
    import subprocess

    custom_cut_at_half(dumps, tmp_path)
    listed = subprocess.run(
        ["pg_restore", "--list", str(tmp_path / "backup.dump")], capture_output=True, timeout=60
    )
    assert listed.returncode == 0
    _entry, _facts, (problem,) = check(tmp_path)
    assert "truncated" in problem


def test_stale_backup_is_the_rpo_gate(dumps: Dumps, tmp_path: Path) -> None:
    place(dumps.plain_gz, tmp_path, "backup_20260101_020000.sql.gz", age_hours=31.2)
    _entry, _facts, problems = check(tmp_path, max_age="26h")
    assert problems == [
        "newest backup backup_20260101_020000.sql.gz: expected at most 26h old (max_age, the RPO gate), got "
        "31.2h old; is the backup job running? check its schedule and log"
    ]


def test_newest_still_tmp_is_ignored_and_named(dumps: Dumps, tmp_path: Path) -> None:
    place(dumps.plain_gz, tmp_path, "backup_1.sql.gz", age_hours=30)
    place(dumps.plain_gz, tmp_path, "backup_2.sql.gz.tmp", age_hours=0.01)
    _entry, facts, problems = check(tmp_path, pattern="backup_*.sql.gz", max_age="26h")
    assert facts.newest is not None
    assert facts.newest.name == "backup_1.sql.gz"
    (problem,) = problems
    assert problem.startswith(
        "newest backup backup_1.sql.gz: expected at most 26h old (max_age, the RPO gate)"
    )
    assert "got 30h old; ignored as incomplete: backup_2.sql.gz.tmp (still being written (*.tmp))" in problem


def test_checksum_verified_in_both_sidecar_styles(dumps: Dumps, tmp_path: Path) -> None:
    backup = place(dumps.plain_gz, tmp_path, "backup.sql.gz")
    digest = hashlib.sha256(backup.read_bytes()).hexdigest()
    for text in (digest, f"{digest}  backup.sql.gz", f"{digest} */opt/backups/backup.sql.gz"):
        (tmp_path / "backup.sql.gz.sha256").write_text(text + "\n")
        _entry, facts, problems = check(tmp_path, checksum="required")
        assert problems == []
        assert facts.checksum is not None
        assert facts.checksum.verified


def test_checksum_required_without_sidecar(dumps: Dumps, tmp_path: Path) -> None:
    place(dumps.plain_gz, tmp_path, "backup.sql.gz")
    _entry, _facts, problems = check(tmp_path, checksum="required")
    assert problems == [
        "backup.sql.gz: checksum: required, but there is no .sha256 sidecar; write one after each backup with "
        "`sha256sum FILE > FILE.sha256`"
    ]


def test_malformed_sidecar(dumps: Dumps, tmp_path: Path) -> None:
    place(dumps.plain_gz, tmp_path, "backup.sql.gz")
    (tmp_path / "backup.sql.gz.sha256").write_text("not a hash\n")
    _entry, _facts, (problem,) = check(tmp_path)
    assert "backup.sql.gz.sha256:1: expected a sha256 hash (64 hex digits)" in problem


def test_directory_dump_sidecar_lists_its_files(dumps: Dumps, tmp_path: Path) -> None:
    backup = place(dumps.directory, tmp_path)
    lines = [
        f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {backup.name}/{p.name}"
        for p in sorted(backup.iterdir())
    ]
    sidecar = tmp_path / f"{backup.name}.sha256"
    sidecar.write_text("\n".join(lines) + "\n")
    assert check(tmp_path, checksum="required")[2] == []
    (backup / "toc.dat").write_bytes((backup / "toc.dat").read_bytes() + b"\n")
    set_age(backup, 1)
    problems = check(tmp_path)[2]
    assert any("sha256 mismatch for toc.dat" in p for p in problems), problems
