"""Format detection: magic bytes first, then the extension; a declared format must agree with the bytes."""

from __future__ import annotations

import gzip
import io
import sqlite3
import tarfile
from pathlib import Path

import pytest

from opsverify.backups.files import stat_backup
from opsverify.backups.formats import Detected, FormatError, detect_format
from opsverify.backups.formats.detect import by_extension, detect_head
from tests.backups.pgdumps import Dumps


def detect(path: Path, declared: str = "auto") -> Detected:
    return detect_format(stat_backup(path), declared)


def test_pg_dumps(dumps: Dumps) -> None:
    assert detect(dumps.plain) == Detected("pg-plain")
    assert detect(dumps.plain_gz) == Detected("pg-plain", gzip=True)
    assert detect(dumps.plain_gz).label == "pg-plain-gz"
    assert detect(dumps.custom) == Detected("pg-custom")
    assert detect(dumps.directory) == Detected("pg-directory")


def test_magic_beats_a_misleading_extension(tmp_path: Path, dumps: Dumps) -> None:
    renamed = tmp_path / "nightly.sql"
    renamed.write_bytes(dumps.custom.read_bytes())
    assert detect(renamed).format == "pg-custom"


def test_sqlite_tar_json(tmp_path: Path) -> None:
    database = tmp_path / "app.backup"
    with sqlite3.connect(database) as connection:
        connection.execute("create table t (x)")
    connection.close()
    assert detect(database).format == "sqlite"
    archive = tmp_path / "uploads.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("a.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    assert detect(archive) == Detected("tar", gzip=True)
    document = tmp_path / "vectors-1.json"
    document.write_text('{"vectors": {}}')
    assert detect(document).format == "json"
    packed = tmp_path / "export.gz"
    packed.write_bytes(gzip.compress(b'[{"id": 1}]'))
    assert detect(packed) == Detected("json", gzip=True)


def test_unknown_bytes_need_a_declared_format(tmp_path: Path) -> None:
    blob = tmp_path / "backup.bin"
    blob.write_bytes(b"\x00\x01binary")
    with pytest.raises(FormatError, match=r"cannot tell the format.*set `format:`"):
        detect(blob)


def test_zstd_is_named_and_refused(tmp_path: Path) -> None:
    blob = tmp_path / "backup.sql.zst"
    blob.write_bytes(b"\x28\xb5\x2f\xfd" + b"\x00" * 20)
    with pytest.raises(FormatError, match="zstd-compressed"):
        detect(blob)


def test_declared_format_must_agree(dumps: Dumps) -> None:
    with pytest.raises(
        FormatError, match="format: pg-plain-gz expected, but the file is not gzip-compressed"
    ):
        detect(dumps.plain, "pg-plain-gz")
    with pytest.raises(
        FormatError, match="format: sqlite expected, but the file's first bytes say pg-custom"
    ):
        detect(dumps.custom, "sqlite")
    assert detect(dumps.plain_gz, "pg-plain") == Detected("pg-plain", gzip=True)
    assert detect(dumps.plain_gz, "gzip") == Detected("gzip", gzip=True)


def test_directory_without_toc(tmp_path: Path) -> None:
    (tmp_path / "backup.dir").mkdir()
    with pytest.raises(FormatError, match=r"without toc\.dat"):
        detect(tmp_path / "backup.dir")


def test_an_extension_is_read_case_blind_and_a_compound_one_first() -> None:
    assert by_extension("nightly.TAR.GZ") == "tar"
    assert by_extension("nightly.tar.gz") == "tar"
    assert by_extension("SHOP.SQL") == "pg-plain"
    assert by_extension("blob.gz") is None


def test_the_name_or_the_gzip_wrapper_decides_when_the_inner_bytes_do_not() -> None:
    noise = gzip.compress(bytes(range(7, 250)) * 4)
    assert detect_head(noise, "files.tgz") == Detected("tar", gzip=True)
    assert detect_head(noise, "blob.json.gz") == Detected("json", gzip=True)
    assert detect_head(noise, "blob.bin.gz") == Detected("gzip", gzip=True)


def test_formats_opsverify_does_not_read_are_named_with_the_fix() -> None:
    with pytest.raises(FormatError) as raised:
        detect_head(b"BZh91AY&SY", "shop.sql.bz2")
    assert str(raised.value) == (
        "is bzip2-compressed, which opsverify does not read; compress backups with gzip "
        "(or pg_dump --format=custom), or decompress before checking"
    )


def test_a_declared_format_is_taken_when_the_bytes_say_nothing_and_checked_when_they_do() -> None:
    assert detect_head(b"\x00\x01", "blob.bin", "pg-plain-gz") == Detected("pg-plain", True)
    assert detect_head(b"\x00\x01", "blob.bin", "sqlite") == Detected("sqlite", False)
    with pytest.raises(FormatError) as raised:
        detect_head(b"\x00\x01", "blob.bin")
    assert str(raised.value) == (
        "cannot tell the format from the name or the first bytes; set `format:` to one of pg-plain, "
        "pg-plain-gz, pg-custom, pg-directory, mysql-plain, mysql-plain-gz, sqlite, tar, json, gzip"
    )
    plain = b"-- PostgreSQL database dump\n"
    with pytest.raises(
        FormatError, match=r"^format: pg-plain-gz expected, but the file is not gzip-compressed \(pg-plain\)$"
    ):
        detect_head(plain, "shop.sql", "pg-plain-gz")
    with pytest.raises(
        FormatError,
        match=r"^format: pg-custom expected, but the file is gzip-compressed \(pg-plain-gz\)$",
    ):
        detect_head(gzip.compress(plain), "shop.sql.gz", "pg-custom")
