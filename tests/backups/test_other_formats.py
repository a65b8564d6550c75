"""SQLite, tar and JSON backups: good ones pass, thresholds (min_files, min_items) are enforced."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import sqlite3
import tarfile
from pathlib import Path
from typing import Any

import pytest

from opsverify.kinds.backups.facts import BackupFacts
from opsverify.kinds.backups.model import BackupCheck
from opsverify.kinds.backups.probe import probe
from opsverify.kinds.backups.verdict import judge
from opsverify.kinds.base import ProbeContext
from tests.backups.pgdumps import set_age


def check(folder: Path, **keys: Any) -> tuple[BackupFacts, list[str]]:
    for path in folder.iterdir():
        set_age(path, 1)
    entry = BackupCheck.model_validate({"path": str(folder), "settle": 0, **keys})
    facts = probe(entry, ProbeContext("prod"))
    return facts, [p.text for p in judge(entry, facts).problems]


def make_sqlite(path: Path, rows: int = 50) -> Path:
    connection = sqlite3.connect(path)
    with connection:
        connection.execute("create table messages (id integer primary key, subject text)")
        connection.executemany("insert into messages (subject) values (?)", [(f"s{i}",) for i in range(rows)])
    connection.close()
    return path


def make_tar(path: Path, names: list[str]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name in names:
            info = tarfile.TarInfo(name)
            info.size = 3
            archive.addfile(info, io.BytesIO(b"abc"))
    return path


def test_sqlite_backup_is_checked_on_a_copy(tmp_path: Path) -> None:
    backup = make_sqlite(tmp_path / "emailops-backup.db")
    before = sorted(p.name for p in tmp_path.iterdir())
    facts, problems = check(tmp_path)
    assert problems == []
    assert facts.inspection is not None
    assert facts.inspection.tables == ["messages"]
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no -journal/-wal next to the live file
    assert backup.exists()


def test_gzipped_sqlite(tmp_path: Path) -> None:
    raw = make_sqlite(tmp_path / "raw.db").read_bytes()
    (tmp_path / "raw.db").unlink()
    (tmp_path / "app.db.gz").write_bytes(gzip.compress(raw))
    facts, problems = check(tmp_path)
    assert problems == []
    assert facts.inspection is not None
    assert facts.inspection.format == "sqlite (gzip)"


def test_tar_members_and_min_files(tmp_path: Path) -> None:
    make_tar(tmp_path / "uploads_backup_20260101.tar.gz", [f"var/uploads/{i}.jpg" for i in range(5)])
    facts, problems = check(tmp_path, min_files=5)
    assert problems == []
    assert facts.inspection is not None
    assert facts.inspection.files == 5
    _facts, problems = check(tmp_path, min_files=10)
    assert problems == [
        "uploads_backup_20260101.tar.gz: expected at least 10 files (min_files), got 5 files in the archive"
    ]


def test_tar_absolute_member_and_truncation(tmp_path: Path) -> None:
    make_tar(tmp_path / "a.tar.gz", ["/etc/passwd"])
    _facts, (problem,) = check(tmp_path)
    assert "unsafe member paths (absolute or with ..): /etc/passwd" in problem
    (tmp_path / "a.tar.gz").unlink()
    data = make_tar(tmp_path / "b.tar", [f"f{i}" for i in range(50)]).read_bytes()
    raw = gzip.decompress(data)
    (tmp_path / "b.tar").write_bytes(raw[: len(raw) // 3])
    _facts, (problem,) = check(tmp_path)
    assert "archive is unreadable after" in problem


def test_tar_symlink_escaping_is_unsafe(tmp_path: Path) -> None:
    with tarfile.open(tmp_path / "links.tar", "w") as archive:
        link = tarfile.TarInfo("uploads/link")
        link.type = tarfile.SYMTYPE
        link.linkname = "../../../etc/shadow"
        archive.addfile(link)
    _facts, (problem,) = check(tmp_path)
    assert "uploads/link -> ../../../etc/shadow" in problem


def test_json_vector_export_items(tmp_path: Path) -> None:
    """The Codebook guide's Pinecone export: {"vectors": {id: {...}}, "namespace": ""}."""
    document = {"vectors": {f"id{i}": {"values": [0.1, 0.2]} for i in range(20)}, "namespace": ""}
    (tmp_path / "pinecone-backup-1700000000000.json").write_text(json.dumps(document))
    facts, problems = check(tmp_path, min_items=20, items_path="vectors")
    assert problems == []
    assert facts.inspection is not None
    assert facts.inspection.items == 20
    _facts, problems = check(tmp_path, min_items=100, items_path="vectors")
    assert problems == [
        "pinecone-backup-1700000000000.json: expected at least 100 items (min_items), "
        "got 20 items at vectors in the JSON document"
    ]
    _facts, problems = check(tmp_path, items_path="missing")
    assert problems == ["pinecone-backup-1700000000000.json: items_path 'missing' is not in the document"]


def test_json_cut_short(tmp_path: Path) -> None:
    (tmp_path / "export.json.gz").write_bytes(gzip.compress(b'[{"id": 1}, {"id": 2'))
    _facts, (problem,) = check(tmp_path)
    assert problem.startswith("export.json.gz: not valid JSON: Expecting")
    assert "cut short or corrupt" in problem


def test_generic_gzip(tmp_path: Path) -> None:
    (tmp_path / "blob.gz").write_bytes(gzip.compress(b"\x00\x01\x02" * 1000))
    facts, problems = check(tmp_path, format="gzip")
    assert problems == []
    assert facts.inspection is not None
    assert facts.inspection.inflated_bytes == 3000


def test_generic_gzip_of_an_empty_stream_is_not_a_backup_and_of_one_byte_is(tmp_path: Path) -> None:
    (tmp_path / "blob.gz").write_bytes(gzip.compress(b""))
    facts, problems = check(tmp_path, format="gzip")
    assert problems == ["blob.gz: gzip stream inflates to 0 bytes (a gzip of an empty stream): not a backup"]
    (tmp_path / "blob.gz").write_bytes(gzip.compress(b"x"))
    facts, problems = check(tmp_path, format="gzip")
    assert problems == []
    assert facts.inspection is not None
    assert facts.inspection.inflated_bytes == 1


def test_generic_gzip_cut_short_is_the_gzip_error(tmp_path: Path) -> None:
    data = gzip.compress(bytes(range(256)) * 400)
    (tmp_path / "blob.gz").write_bytes(data[: len(data) // 2])
    _, problems = check(tmp_path, format="gzip")
    (problem,) = problems  # the sizes in the middle depend on zlib's compression
    assert problem.startswith("blob.gz: gzip stream is truncated: it ends after ")
    assert problem.endswith(
        " without its end marker; the file was cut short (disk full, killed dump, interrupted copy)"
    )


def test_generic_gzip_is_hashed_unless_checksum_is_off(tmp_path: Path) -> None:
    data = gzip.compress(b"\x00\x01\x02" * 1000)
    (tmp_path / "blob.gz").write_bytes(data)
    facts, _ = check(tmp_path, format="gzip")
    assert facts.inspection is not None
    assert facts.inspection.sha256 == hashlib.sha256(data).hexdigest()
    facts, _ = check(tmp_path, format="gzip", checksum="off")
    assert facts.inspection is not None
    assert facts.inspection.sha256 is None


def _sqlite_bytes(tmp_path: Path) -> bytes:
    raw = make_sqlite(tmp_path / "scratch.db").read_bytes()
    (tmp_path / "scratch.db").unlink()
    return raw


@pytest.mark.parametrize(
    ("name", "content", "format_name"),
    [
        ("export.json", lambda _: b'\xef\xbb\xbf \n[{"id": 1}, {"id": 2}]', "json"),
        ("app.db.gz", lambda tmp: gzip.compress(_sqlite_bytes(tmp)), "sqlite (gzip)"),
        ("files.tar", None, "tar"),
    ],
)
def test_each_reader_hashes_the_file_unless_checksum_is_off(
    tmp_path: Path, name: str, content: Any, format_name: str
) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    if content is None:
        with tarfile.open(folder / name, "w") as archive:
            info = tarfile.TarInfo("a.txt")
            info.size = 3
            archive.addfile(info, io.BytesIO(b"abc"))
    else:
        (folder / name).write_bytes(content(tmp_path))
    facts, problems = check(folder)
    assert problems == []
    assert facts.inspection is not None
    assert facts.inspection.format == format_name
    assert facts.inspection.sha256 == hashlib.sha256((folder / name).read_bytes()).hexdigest()
    facts, problems = check(folder, checksum="off")
    assert problems == []
    assert facts.inspection is not None
    assert facts.inspection.sha256 is None


def test_a_gzipped_sqlite_backup_counts_its_inflated_bytes(tmp_path: Path) -> None:
    raw = _sqlite_bytes(tmp_path)
    (tmp_path / "app.db.gz").write_bytes(gzip.compress(raw))
    facts, _ = check(tmp_path)
    assert facts.inspection is not None
    assert facts.inspection.inflated_bytes == len(raw)
