"""SQLite and uploads-archive drills: restore to a temp folder, integrity_check / safe extract, same expect block."""

from __future__ import annotations

import io
import sqlite3
import tarfile
import tempfile
import time
from pathlib import Path

from tests.backups.pgdumps import set_age
from tests.drills.helpers import evidence_lines, run_drill


def emailops_backup(folder: Path) -> Path:
    """The EmailOps guide's `sqlite3 data/emailops.db ".backup data/emailops-backup.db"`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "emailops-backup.db"
    connection = sqlite3.connect(path)
    with connection:
        connection.execute("create table messages (id integer primary key, subject text, received_at text)")
        now = time.time()
        connection.executemany(
            "insert into messages (subject, received_at) values (?, datetime(?, 'unixepoch'))",
            [(f"subject {i}", now - 7200 - i * 60) for i in range(1500)],
        )
    connection.close()
    set_age(path, 1)
    return path


def test_sqlite_drill(tmp_path: Path, reports: Path) -> None:
    emailops_backup(tmp_path / "b")
    expect = {
        "tables": ["messages"],
        "min_rows": {"messages": 1000},
        "queries": {"subjects": {"sql": "select count(distinct subject) from messages", "min": 1500}},
        "freshness": {"sql": "select max(received_at) from messages", "max_lag": "3h"},
    }
    facts, problems = run_drill(tmp_path, tmp_path / "b", {"expect": expect})
    assert problems == []
    assert facts.verification.row_counts == {"messages": 1500}
    assert facts.verification.data_lag_s is not None
    assert 7000 < facts.verification.data_lag_s < 7400
    record = evidence_lines(reports)[0]
    assert record["sandbox"] == "files"
    assert record["verdict"] == "passed"
    workdir = facts.sandbox_detail.split()[-1] if facts.sandbox_detail else ""
    assert workdir.startswith(tempfile.gettempdir())
    assert not Path(workdir).exists()


def test_sqlite_drill_failures_are_named(tmp_path: Path) -> None:
    emailops_backup(tmp_path / "b")
    expect = {
        "tables": ["messages", "accounts"],
        "freshness": {"sql": "select max(received_at) from messages", "max_lag": "1h"},
    }
    _facts, problems = run_drill(tmp_path, tmp_path / "b", {"expect": expect})
    assert (
        problems[0]
        == "restored database: lacks expected table accounts; is this a dump of the right database?"
    )
    assert problems[1].startswith("freshness: expected newest row at most 60m old (max_lag), got 2h old")


def uploads_archive(folder: Path, files: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "uploads_backup_20260101.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for index in range(files):
            info = tarfile.TarInfo(f"var/uploads/{index}.jpg")
            info.size = 5
            info.mode = 0o4755  # setuid bit: the data filter drops it on extraction
            archive.addfile(info, io.BytesIO(b"image"))
    set_age(path, 1)
    return path


def test_uploads_archive_drill_compares_file_counts(tmp_path: Path) -> None:
    uploads_archive(tmp_path / "b", files=40)
    live = tmp_path / "live-uploads"
    live.mkdir()
    for index in range(42):
        (live / f"{index}.jpg").write_bytes(b"x")
    expect = {"compare_dir": str(live), "count_tolerance_pct": 10}
    facts, problems = run_drill(tmp_path, tmp_path / "b", {"expect": expect}, min_files=40)
    assert problems == []
    assert facts.verification.files == 40
    assert facts.verification.compare_files == 42
    for index in range(42, 60):
        (live / f"{index}.jpg").write_bytes(b"x")
    _facts, problems = run_drill(tmp_path, tmp_path / "b", {"expect": expect})
    assert problems == [
        f"restored archive: expected within 10% (count_tolerance_pct), got 40 files vs 60 in {live}, 33.3% apart"
    ]


def test_database_expectations_do_not_apply_to_archives(tmp_path: Path) -> None:
    uploads_archive(tmp_path / "b", files=2)
    _facts, problems = run_drill(tmp_path, tmp_path / "b")
    assert problems == [
        "expect.tables/min_rows/queries/freshness do not apply to a file archive; use compare_dir"
    ]
