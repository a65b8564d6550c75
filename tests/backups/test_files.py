"""Finding backups: newest by mtime, in-progress files set aside, a growing file is not taken for the newest."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from opsverify.backups.files import list_backups, settle_newest, stat_backup
from opsverify.kinds.backups.model import IN_PROGRESS_PATTERNS, BackupCheck
from opsverify.kinds.backups.probe import probe
from opsverify.kinds.backups.verdict import judge
from opsverify.kinds.base import ProbeContext
from tests.backups.pgdumps import set_age


def write(folder: Path, name: str, data: bytes = b"x" * 100, age_hours: float = 1.0) -> Path:
    path = folder / name
    path.write_bytes(data)
    set_age(path, age_hours)
    return path


def test_newest_by_mtime_not_by_name(tmp_path: Path) -> None:
    write(tmp_path, "backup_3.sql.gz", age_hours=5)
    write(tmp_path, "backup_1.sql.gz", age_hours=1)
    write(tmp_path, "backup_2.sql.gz", age_hours=3)
    write(tmp_path, "notes.txt")
    listing = list_backups(tmp_path, "backup_*.sql.gz", IN_PROGRESS_PATTERNS)
    assert [f.name for f in listing.complete] == ["backup_1.sql.gz", "backup_2.sql.gz", "backup_3.sql.gz"]
    assert listing.other_names == ["notes.txt"]


def test_in_progress_and_sidecars_are_not_backups(tmp_path: Path) -> None:
    write(tmp_path, "backup_1.sql.gz", age_hours=2)
    write(tmp_path, "backup_1.sql.gz.sha256", b"0" * 64)
    write(tmp_path, "backup_2.sql.gz.tmp", age_hours=0)
    write(tmp_path, "backup_3.sql.gz.partial", age_hours=0)
    listing = list_backups(tmp_path, "backup_*", IN_PROGRESS_PATTERNS)
    assert [f.name for f in listing.complete] == ["backup_1.sql.gz"]
    assert sorted(s.name for s in listing.in_progress) == ["backup_2.sql.gz.tmp", "backup_3.sql.gz.partial"]
    assert all("still being written" in s.reason for s in listing.in_progress)


def test_tmp_suffix_matched_against_the_pattern_without_it(tmp_path: Path) -> None:
    write(tmp_path, "backup_2.sql.gz.tmp", age_hours=0)
    listing = list_backups(tmp_path, "backup_*.sql.gz", IN_PROGRESS_PATTERNS)
    assert [s.name for s in listing.in_progress] == ["backup_2.sql.gz.tmp"]


def test_a_growing_newest_file_is_set_aside(tmp_path: Path) -> None:
    write(tmp_path, "backup_1.sql", age_hours=2)
    growing = write(tmp_path, "backup_2.sql", age_hours=0)
    stop = threading.Event()

    def append() -> None:
        while not stop.is_set():
            with growing.open("ab") as handle:
                handle.write(b"more\n")
            time.sleep(0.02)

    writer = threading.Thread(target=append)
    writer.start()
    try:
        listing = list_backups(tmp_path, "backup_*", IN_PROGRESS_PATTERNS)
        settle_newest(listing, settle=0.3)
    finally:
        stop.set()
        writer.join()
    assert [f.name for f in listing.complete] == ["backup_1.sql"]
    assert listing.in_progress[0].name == "backup_2.sql"
    assert "size changed" in listing.in_progress[0].reason


def test_an_old_newest_file_costs_no_waiting(tmp_path: Path) -> None:
    write(tmp_path, "backup_1.sql", age_hours=1)
    listing = list_backups(tmp_path, "backup_*", IN_PROGRESS_PATTERNS)
    started = time.monotonic()
    settle_newest(listing, settle=60)
    assert (
        time.monotonic() - started < 30
    )  # far less than the settle time, with a margin for a loaded machine
    assert len(listing.complete) == 1


def test_directory_backup_size_and_mtime_come_from_its_files(tmp_path: Path) -> None:
    folder = tmp_path / "backup_1.dir"
    folder.mkdir()
    (folder / "toc.dat").write_bytes(b"a" * 10)
    (folder / "3000.dat.gz").write_bytes(b"b" * 30)
    info = stat_backup(folder)
    assert info.is_dir
    assert info.size == 40


def test_missing_folder_is_an_error_with_the_fix(tmp_path: Path) -> None:
    entry = BackupCheck(path=str(tmp_path / "nope"))
    facts = probe(entry, ProbeContext("t", tmp_path))
    assert [p.text for p in judge(entry, facts).problems] == [
        f"backup folder {tmp_path / 'nope'} does not exist: is the backup volume mounted, and is `path` right?"
    ]


def test_relative_path_is_relative_to_the_target_file(tmp_path: Path) -> None:
    (tmp_path / "backups").mkdir()
    write(tmp_path / "backups", "b.json", b"[1]")
    entry = BackupCheck(path="backups", settle=0)
    facts = probe(entry, ProbeContext("t", tmp_path))
    assert facts.newest is not None
    assert facts.newest.name == "b.json"


def test_empty_folder_says_so(tmp_path: Path) -> None:
    (tmp_path / "other.txt").write_text("x")
    entry = BackupCheck(path=str(tmp_path), pattern="backup_*.sql.gz")
    facts = probe(entry, ProbeContext("t"))
    (problem,) = [p.text for p in judge(entry, facts).problems]
    assert f"no backup in {tmp_path} matches backup_*.sql.gz" in problem
    assert "other.txt" in problem


def test_only_in_progress_files(tmp_path: Path) -> None:
    write(tmp_path, "backup_1.sql.gz.tmp", age_hours=0)
    entry = BackupCheck(path=str(tmp_path), pattern="backup_*.sql.gz")
    (problem,) = [p.text for p in judge(entry, probe(entry, ProbeContext("t"))).problems]
    assert "no complete backup" in problem
    assert "backup_1.sql.gz.tmp" in problem
