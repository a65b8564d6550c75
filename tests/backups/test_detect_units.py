"""Format detection's finer rules on bytes built here (the unit tests `make mutation` judges detect.py with,
beside test_formats.py): what a gzip wrapper's inner bytes and name say, a declared format that is only a
hint, a folder that is no dump, names that are not extensions."""

from __future__ import annotations

import gzip
import io
import sqlite3
import tarfile
from pathlib import Path

import pytest

from opsverify.backups.files import stat_backup
from opsverify.backups.formats import Detected, FormatError, detect_format
from opsverify.backups.formats.detect import by_extension, by_magic, by_text, detect_head

NOISE = bytes(range(7, 250)) * 4  # no magic, no text a format recognises


def sqlite_bytes(tmp_path: Path) -> bytes:
    path = tmp_path / "made.db"
    connection = sqlite3.connect(path)
    with connection:
        connection.execute("create table t (x)")
    connection.close()
    return path.read_bytes()


def tar_bytes() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        member = tarfile.TarInfo("a.txt")
        member.size = 1
        archive.addfile(member, io.BytesIO(b"x"))
    return buffer.getvalue()


def test_inside_a_gzip_the_magic_decides_before_the_name(tmp_path: Path) -> None:
    assert detect_head(gzip.compress(sqlite_bytes(tmp_path)), "shop.sql.gz") == Detected("sqlite", gzip=True)
    assert detect_head(gzip.compress(tar_bytes()), "shop.json.gz") == Detected("tar", gzip=True)


def test_inside_a_gzip_the_text_decides_before_the_name() -> None:
    assert detect_head(gzip.compress(b"-- PostgreSQL database dump\n"), "x.json.gz") == Detected(
        "pg-plain", True
    )
    assert detect_head(gzip.compress(b'[{"id": 1}]'), "x.sql.gz") == Detected("json", gzip=True)


def test_inside_a_gzip_the_name_without_gz_or_gzip_decides_last() -> None:
    packed = gzip.compress(NOISE)
    assert detect_head(packed, "x.json.gz") == Detected("json", gzip=True)
    assert detect_head(packed, "x.json.gzip") == Detected("json", gzip=True)
    assert detect_head(packed, "x.JSON.GZ") == Detected("json", gzip=True)  # the stem, read case-blind
    assert detect_head(packed, "x.sql.bin") == Detected("pg-plain", gzip=True)  # the stem `x.sql`
    assert detect_head(packed, "dir.json/x.gz") == Detected(
        "gzip", gzip=True
    )  # the file's name, not its folder


def test_a_tgz_is_a_tar_whatever_its_inner_bytes_say(tmp_path: Path) -> None:
    assert detect_head(gzip.compress(sqlite_bytes(tmp_path)), "files.tgz") == Detected("tar", gzip=True)


def test_a_gzip_magic_over_a_broken_stream_is_named_by_its_name() -> None:
    assert detect_head(b"\x1f\x8b" + b"not deflate data" * 8, "shop.sql.gz") == Detected("pg-plain", True)
    assert detect_head(b"\x1f\x8b" + b"not deflate data" * 8, "blob.gz") == Detected("gzip", gzip=True)


def test_without_gzip_the_name_decides_before_the_text() -> None:
    assert detect_head(b"-- PostgreSQL database dump\n", "x.json") == Detected("json")
    assert detect_head(b'[{"id": 1}]', "x.bin") == Detected("json")
    assert detect_head(b"-- a comment\n", "x.bin") == Detected("pg-plain")


def test_a_declared_format_overrides_a_guess_but_not_magic_bytes(tmp_path: Path) -> None:
    assert detect_head(b'[{"id": 1}]', "x.json", "pg-plain") == Detected("pg-plain")
    assert detect_head(b"-- x\n", "x.sql", "json") == Detected("json")
    assert detect_head(gzip.compress(b"-- x\n"), "x.sql.gz", "json") == Detected("json", gzip=True)
    assert detect_head(gzip.compress(b"-- x\n"), "x.sql.gz", "pg-plain-gz") == Detected("pg-plain", gzip=True)
    with pytest.raises(FormatError) as raised:
        detect_head(sqlite_bytes(tmp_path), "x.db", "json")
    assert str(raised.value) == "format: json expected, but the file's first bytes say sqlite"
    with pytest.raises(FormatError) as raised:
        detect_head(gzip.compress(tar_bytes()), "x.tar.gz", "sqlite")
    assert str(raised.value) == "format: sqlite expected, but the file's first bytes say tar (gzip)"


def test_a_declared_gzip_takes_any_gzip_even_of_a_format_known_by_its_magic(tmp_path: Path) -> None:
    raw = sqlite_bytes(tmp_path)
    assert detect_head(gzip.compress(raw), "app.db.gz", "gzip") == Detected("gzip", gzip=True)
    with pytest.raises(FormatError) as raised:
        detect_head(raw, "app.db", "gzip")
    assert str(raised.value) == "format: gzip expected, but the file is not gzip-compressed (sqlite)"


def test_a_declared_format_that_wants_no_gzip(tmp_path: Path) -> None:
    assert detect_head(sqlite_bytes(tmp_path), "x.db", "sqlite") == Detected("sqlite")
    with pytest.raises(FormatError) as raised:
        detect_head(gzip.compress(b"PGDMP"), "x.dump.gz", "pg-custom")
    assert (
        str(raised.value) == "format: pg-custom expected, but the file is gzip-compressed (pg-custom (gzip))"
    )


def test_a_file_is_detected_from_its_first_bytes_and_its_name(tmp_path: Path) -> None:
    path = tmp_path / "nightly.backup"
    path.write_bytes(b"PGDMP" + NOISE)
    assert detect_format(stat_backup(path)) == Detected("pg-custom")
    assert detect_format(stat_backup(path), "auto") == Detected("pg-custom")
    late = tmp_path / "late.sql"
    late.write_bytes(b" " * 70000 + b"PGDMP")
    assert detect_format(stat_backup(late)) == Detected("pg-plain")


def test_a_folder_without_toc_dat_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "backup.dir"
    folder.mkdir()
    (folder / "toc.dat").mkdir()  # a folder called toc.dat is not the file
    with pytest.raises(FormatError) as raised:
        detect_format(stat_backup(folder))
    assert str(raised.value) == "is a directory without toc.dat: not a pg_dump --format=directory backup"


def test_a_folder_with_toc_dat_is_a_directory_dump(tmp_path: Path) -> None:
    folder = tmp_path / "backup.dir"
    folder.mkdir()
    (folder / "toc.dat").write_bytes(b"PGDMP")
    assert detect_format(stat_backup(folder)) == Detected("pg-directory")


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("a.dump", "pg-custom"),
        ("a.sqlite3", "sqlite"),
        ("a.tgz", "tar"),
        ("a.tar", "tar"),
        ("a.jsonl", "json"),
        ("a.old.sql", "pg-plain"),
        (".sql", None),  # a dot-file's name is no extension
        ("sql", None),
        ("a.sql.", None),
        ("a.gz", None),
        ("a_tar.gz", None),
    ],
)
def test_what_a_name_suggests(name: str, fmt: str | None) -> None:
    assert by_extension(name) == fmt


def test_magic_and_text_name_the_first_format_that_claims_the_bytes(tmp_path: Path) -> None:
    assert by_magic(sqlite_bytes(tmp_path)) == "sqlite"
    assert by_magic(b"PGDMP") == "pg-custom"
    assert by_magic(b"-- MySQL dump 10.13") == "mysql-plain"
    assert by_magic(b"-- x") is None
    assert by_text(b"-- x") == "pg-plain"
    assert by_text(b"{}") == "json"
    assert by_text(b"PGDMP") is None
