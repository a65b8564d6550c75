"""mysqldump / mariadb-dump backups (`mysql-plain`, `mysql-plain-gz`): real dumps of the test server pass, and
each broken one fails naming the file and what is wrong (truncated, empty stream, schema-only, another
database, missing trailer, corrupted bytes). The scanner gives the same counts whatever the chunking."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from opsverify.backups.files import stat_backup
from opsverify.backups.formats import detect_format
from opsverify.backups.mysql_dump import MysqlDumpScanner
from opsverify.kinds.backups.facts import BackupFacts
from opsverify.kinds.backups.model import BackupCheck
from opsverify.kinds.backups.probe import probe
from opsverify.kinds.backups.verdict import judge
from opsverify.kinds.base import ProbeContext
from tests.backups.mysqldumps import MysqlDumps
from tests.backups.pgdumps import place, set_age


def check(folder: Path, **keys: Any) -> tuple[BackupCheck, BackupFacts, list[str]]:
    entry = BackupCheck.model_validate({"path": str(folder), "settle": 0, **keys})
    facts = probe(entry, ProbeContext("prod"))
    return entry, facts, [p.text for p in judge(entry, facts).problems]


@pytest.mark.parametrize("which", ["plain", "plain_gz"])
def test_good_dumps_pass_and_are_detected(mysql_dumps: MysqlDumps, tmp_path: Path, which: str) -> None:
    source = getattr(mysql_dumps, which)
    place(source, tmp_path)
    _entry, facts, problems = check(tmp_path, max_age="26h", expect_database=mysql_dumps.database)
    assert problems == []
    inspection = facts.inspection
    assert inspection is not None
    assert inspection.format == ("mysql-plain-gz" if which == "plain_gz" else "mysql-plain")
    assert inspection.header
    assert inspection.trailer
    assert inspection.create_tables == 3
    assert inspection.inserts >= 3
    assert inspection.databases == [mysql_dumps.database]
    assert inspection.dumped_from is not None
    summary = inspection.summary()
    assert "3 CREATE TABLE" in summary
    assert f"database {mysql_dumps.database}" in summary
    assert "trailer present" in summary
    declared = "mysql-plain-gz" if which == "plain_gz" else "mysql-plain"
    _entry, _facts, problems = check(tmp_path, format=declared)
    assert problems == []


def test_a_mysql_dump_is_not_taken_for_postgres(mysql_dumps: MysqlDumps, tmp_path: Path) -> None:
    path = place(mysql_dumps.plain, tmp_path, "backup.sql")
    assert detect_format(stat_backup(path)).label == "mysql-plain"
    _entry, _facts, problems = check(tmp_path, format="pg-plain")
    assert problems == ["backup.sql: format: pg-plain expected, but the file's first bytes say mysql-plain"]


def truncated(dumps: MysqlDumps, folder: Path) -> None:
    data = dumps.plain_gz.read_bytes()
    (folder / "shop.sql.gz").write_bytes(data[: int(len(data) * 0.6)])


def truncated_plain(dumps: MysqlDumps, folder: Path) -> None:
    data = dumps.plain.read_bytes()
    (folder / "shop.sql").write_bytes(data[: int(len(data) * 0.7)])


def empty_stream(dumps: MysqlDumps, folder: Path) -> None:
    (folder / "shop.sql.gz").write_bytes(gzip.compress(b""))


def schema_only(dumps: MysqlDumps, folder: Path) -> None:
    place(dumps.no_data, folder, "shop.sql.gz")


def other_database(dumps: MysqlDumps, folder: Path) -> None:
    place(dumps.other_database, folder, "shop.sql.gz")


def missing_trailer(dumps: MysqlDumps, folder: Path) -> None:
    lines = gzip.decompress(dumps.plain_gz.read_bytes()).splitlines(keepends=True)
    (folder / "shop.sql.gz").write_bytes(gzip.compress(b"".join(lines[:-3])))


def no_comments(dumps: MysqlDumps, folder: Path) -> None:
    place(dumps.no_comments, folder, "shop.sql")


def corrupted(dumps: MysqlDumps, folder: Path) -> None:
    data = bytearray(dumps.plain_gz.read_bytes())
    middle = len(data) // 2
    for index in range(middle, middle + 64):
        data[index] ^= 0xFF
    (folder / "shop.sql.gz").write_bytes(bytes(data))


CORPUS: dict[str, tuple[Callable[[MysqlDumps, Path], None], dict[str, Any], str]] = {
    "truncated gz": (truncated, {}, "shop.sql.gz: gzip stream is truncated"),
    "truncated plain": (
        truncated_plain,
        {"format": "mysql-plain"},
        "shop.sql: no '-- Dump completed on' trailer",
    ),
    "empty stream": (empty_stream, {"format": "mysql-plain-gz"}, "mysqldump produced no output"),
    "schema-only": (schema_only, {}, "shop.sql.gz: schema-only dump: 3 CREATE TABLE but no INSERT data"),
    "another database": (
        other_database,
        {"expect_database": "SHOP"},
        "got a dump of another database: ov_blog_",
    ),
    "missing trailer": (missing_trailer, {}, "shop.sql.gz: no '-- Dump completed on' trailer at the end"),
    "no comments": (no_comments, {"format": "mysql-plain"}, "no '-- MySQL dump' / '-- MariaDB dump' header"),
    "corrupted bytes": (
        corrupted,
        {},
        "shop.sql.gz: gzip checksum mismatch (incorrect data check): the data is corrupt",
    ),
}


@pytest.mark.parametrize("case", list(CORPUS))
def test_broken_dump_fails_saying_what_is_wrong(mysql_dumps: MysqlDumps, tmp_path: Path, case: str) -> None:
    build, keys, expected = CORPUS[case]
    build(mysql_dumps, tmp_path)
    for path in tmp_path.iterdir():
        set_age(path, 1)
    _entry, _facts, problems = check(tmp_path, **keys)
    assert any(expected in problem for problem in problems), problems


def test_expect_database_names_both(mysql_dumps: MysqlDumps, tmp_path: Path) -> None:
    other_database(mysql_dumps, tmp_path)
    _entry, facts, problems = check(tmp_path, expect_database=mysql_dumps.database)
    assert facts.inspection is not None
    (blog,) = facts.inspection.databases
    assert problems == [
        f"shop.sql.gz: expected a dump of {mysql_dumps.database} (expect_database), got a dump of another "
        f"database: {blog}; the backup job dumps the wrong database: check the database name in its command"
    ]


@pytest.mark.parametrize("chunk", [1, 7, 64, 1 << 20])
def test_scanner_counts_alike_whatever_the_chunking(mysql_dumps: MysqlDumps, chunk: int) -> None:
    data = gzip.decompress(mysql_dumps.plain_gz.read_bytes())
    scanner = MysqlDumpScanner()
    for start in range(0, len(data), chunk):
        scanner.write(data[start : start + chunk])
    scan = scanner.finish()
    assert (scan.header, scan.trailer, scan.create_tables) == (True, True, 3)
    assert scan.inserts == data.count(b"\nINSERT INTO ")
    assert scan.databases == [mysql_dumps.database]
    assert scan.defects(len(data)) == []
