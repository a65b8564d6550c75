"""pg_dump custom and directory archives read through the real pg_restore: tiny archives of two small tables
made once per module on the local PostgreSQL, and broken copies of them; the exact defects and hints.

Fast enough for `make mutation` (one small database per run, each pg_restore a few milliseconds): these tests
judge `opsverify/backups/pg_archive.py`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from opsverify.backups.pg_archive import (
    ArchiveList,
    ArchiveRead,
    archive_dumped_from,
    archive_hint,
    archive_read_error,
    list_archive,
    read_archive,
)
from opsverify.backups.pgtools import ErrorLog, ToolMissing, client_tool, tool_version
from opsverify.backups.plain_sql import PlainSqlScan
from opsverify.backups.stream import StreamResult
from tests.backups.pgdumps import create_database, drop_database, pg_dump, unique_name, url_for

NO_TABLES = "no CREATE TABLE, COPY or INSERT statement: the dump contains no tables"
ENDS_EARLY = (
    " (the archive ends early: it is truncated (dump cut short, incomplete copy) or corrupt "
    "(a damaged block length points past its end))"
)
CORRUPT = " (the archive is corrupt: damaged blocks; restore an older backup and check the storage)"


@dataclass
class Archives:
    custom: Path
    directory: Path
    empty: Path  # a custom archive of a database without tables
    schema_only: Path  # a custom archive with the table but not its data
    latin1: Path  # a custom archive of an SQL_ASCII database whose table is named café in LATIN1 (byte 0xE9)
    server_version: str  # the first word of the server's version
    server_version_full: str


@pytest.fixture(scope="module")
def archives(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Archives:
    folder = tmp_path_factory.mktemp("archives")
    name, empty = unique_name("opsverify_arch"), unique_name("opsverify_arch_empty")
    url = create_database(
        name,
        "create table t (id int primary key, name text); insert into t values (1, 'a'), (2, 'b'), (3, 'c'); create table u (id int); insert into u values (1);",
    )
    empty_url = create_database(empty)
    latin1 = unique_name("opsverify_arch_latin1")
    with psycopg.connect(pg_url, autocommit=True, connect_timeout=10) as connection:
        connection.execute(
            sql.SQL(
                "CREATE DATABASE {} ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
            ).format(sql.Identifier(latin1))
        )
    try:
        with psycopg.connect(url_for(latin1), autocommit=True, connect_timeout=10) as connection:
            connection.execute(b'create table "caf\xe9" (id int); insert into "caf\xe9" values (1)')
        custom = pg_dump(url, folder / "t.dump", "c")
        directory = pg_dump(url, folder / "t.dir", "d")
        empty_archive = pg_dump(empty_url, folder / "empty.dump", "c")
        schema_only = pg_dump(url, folder / "schema.dump", "c", "--schema-only")
        latin1_archive = pg_dump(url_for(latin1), folder / "latin1.dump", "c")
    finally:
        drop_database(name)
        drop_database(empty)
        drop_database(latin1)
    with psycopg.connect(pg_url, connect_timeout=10) as connection:
        row = connection.execute("show server_version").fetchone()
    assert row is not None
    full = str(row[0])  # `15.20 (Debian 15.20-0+deb12u1)`, as pg_dump writes it in the archive
    return Archives(custom, directory, empty_archive, schema_only, latin1_archive, full.split()[0], full)


def copy(source: Path, folder: Path, name: str | None = None) -> Path:
    target = folder / (name or source.name)
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        shutil.copyfile(source, target)
    return target


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def pg_restore() -> str:
    return client_tool("pg_restore")


def log_of(*lines: str) -> ErrorLog:
    log = ErrorLog()
    for line in lines:
        log.add(line)
    return log


def corrupt_data_block(source: Path, target: Path) -> Path:
    """The archive with bytes in its (last, zlib-compressed) data block changed: the TOC still reads."""
    data = bytearray(source.read_bytes())
    start = data.rfind(b"\x78\x9c")
    for index in range(start + 4, start + 10):
        data[index] ^= 0x55
    target.write_bytes(bytes(data))
    return target


def test_a_custom_archive_is_read_whole_and_hashed(archives: Archives) -> None:
    read = read_archive(archives.custom, directory=False)
    size = archives.custom.stat().st_size
    assert read.stream == StreamResult(bytes_read=size, sha256=sha(archives.custom))
    assert (read.returncode, read.pg_restore_version) == (0, tool_version(pg_restore()))
    assert (read.scan.header, read.scan.trailer, read.scan.create_tables, read.scan.copies) == (
        True,
        True,
        2,
        2,
    )
    assert read.scan.dumped_from == archives.server_version
    sql = subprocess.run(
        [pg_restore(), "--file=-", str(archives.custom)], capture_output=True, check=True
    ).stdout
    assert read.sql_bytes == len(sql)  # the SQL text of the archive, not the archive
    assert read.defects() == []


def test_without_hash_the_archive_is_still_read_and_measured(archives: Archives) -> None:
    read = read_archive(
        archives.custom, directory=False, hash_file=False, client_bin=str(Path(pg_restore()).parent)
    )
    assert read.stream == StreamResult(bytes_read=archives.custom.stat().st_size, sha256=None)
    assert (read.scan.copies, read.defects()) == (2, [])


def test_a_directory_archive_counts_the_bytes_of_its_files(archives: Archives) -> None:
    read = read_archive(archives.directory, directory=True)
    total = sum(p.stat().st_size for p in archives.directory.iterdir())
    assert read.stream == StreamResult(bytes_read=total)
    assert (read.returncode, read.scan.create_tables, read.scan.copies, read.defects()) == (0, 2, 2, [])


def test_a_directory_archive_counts_files_in_subfolders_too(archives: Archives, tmp_path: Path) -> None:
    folder = copy(archives.directory, tmp_path)
    (folder / "extra").mkdir()
    (folder / "extra" / "note.txt").write_bytes(b"12345")
    read = read_archive(folder, directory=True)
    total = sum(p.stat().st_size for p in archives.directory.iterdir())
    assert read.stream.bytes_read == total + 5
    assert read.defects() == []


def test_a_directory_archive_without_its_data_file_fails(archives: Archives, tmp_path: Path) -> None:
    folder = copy(archives.directory, tmp_path)
    data_file = sorted(folder.glob("[0-9]*.dat*"))[0]
    data_file.unlink()
    read = read_archive(folder, directory=True)
    assert read.returncode == 1
    (defect,) = read.defects()
    assert defect.startswith(
        "pg_restore cannot read the archive: pg_restore: error: could not open input file"
    )
    assert f'{folder / data_file.stem}": No such file or directory' in defect


def test_a_truncated_custom_archive_ends_early(archives: Archives, tmp_path: Path) -> None:
    cut = tmp_path / "cut.dump"
    cut.write_bytes(archives.custom.read_bytes()[:600])
    read = read_archive(cut, directory=False)
    assert read.stream == StreamResult(bytes_read=600, sha256=sha(cut))
    assert read.returncode == 1
    assert read.defects() == [
        "pg_restore cannot read the archive: pg_restore: error: could not read from input file: end of file"
        + ENDS_EARLY
    ]


def test_a_corrupt_data_block_is_named(archives: Archives, tmp_path: Path) -> None:
    bad = corrupt_data_block(archives.custom, tmp_path / "bad.dump")
    read = read_archive(bad, directory=False)
    (defect,) = read.defects()
    assert defect.startswith(
        "pg_restore cannot read the archive: pg_restore: error: could not uncompress data: "
    )
    assert defect.endswith(CORRUPT)


def test_garbage_stops_pg_restore_but_the_whole_file_is_hashed(tmp_path: Path) -> None:
    """pg_restore exits at the first bytes; the rest of the file (several chunks) is still read and hashed."""
    junk = tmp_path / "junk.dump"
    junk.write_bytes(os.urandom(3 << 20))
    read = read_archive(junk, directory=False)
    assert read.stream == StreamResult(bytes_read=3 << 20, sha256=sha(junk))
    assert (read.returncode, read.sql_bytes) == (1, 0)
    assert read.defects() == [
        "pg_restore cannot read the archive: pg_restore: error: input file does not appear to be a valid archive"
    ]


def test_a_missing_pg_restore_is_named(archives: Archives, tmp_path: Path) -> None:
    with pytest.raises(ToolMissing, match="pg_restore not found in client_bin"):
        read_archive(archives.custom, directory=False, client_bin=str(tmp_path))
    with pytest.raises(ToolMissing, match="pg_restore not found in client_bin"):
        list_archive(archives.custom, client_bin=str(tmp_path))


def test_a_failed_read_without_messages_gives_its_exit_status() -> None:
    read = ArchiveRead(StreamResult(), PlainSqlScan(), 0, 3, ErrorLog(), "16.4")
    assert read.defects() == ["pg_restore cannot read the archive: exit status 3"]
    listed = ArchiveList(StreamResult(), 2, ErrorLog(), "16.4")
    assert listed.defects() == ["pg_restore cannot read the archive: exit status 2"]


def test_a_failed_read_names_its_first_two_errors_and_the_hint() -> None:
    log = log_of(
        "pg_restore: error: unsupported version (1.16) in file header",
        "pg_restore: error: second",
        "pg_restore: error: third",
    )
    hint = (
        " (this pg_restore 15.2 is older than the pg_dump that wrote the archive; install a newer client or set "
        "client_bin)"
    )
    first = "pg_restore: error: unsupported version (1.16) in file header; pg_restore: error: second"
    assert ArchiveRead(StreamResult(), PlainSqlScan(), 10, 1, log, "15.2").defects() == [
        f"pg_restore cannot read the archive: {first}{hint}"
    ]
    assert ArchiveList(StreamResult(), 1, log, "15.2").defects() == [
        f"pg_restore cannot read the archive: {first}{hint}"
    ]


def test_a_good_read_is_judged_by_its_sql() -> None:
    empty = ArchiveRead(StreamResult(), PlainSqlScan(), 0, 0, ErrorLog(), "16.4")
    assert empty.defects() == [
        "the dump is empty (0 bytes of SQL): the dump command produced no output; check its log"
    ]


def test_the_table_of_contents_is_counted_and_the_file_hashed(archives: Archives) -> None:
    listed = list_archive(archives.custom)
    assert listed.stream == StreamResult(
        bytes_read=archives.custom.stat().st_size, sha256=sha(archives.custom)
    )
    assert (listed.returncode, listed.tables, listed.table_data) == (0, 2, 2)
    assert listed.dumped_from == archives.server_version_full
    assert listed.pg_restore_version == tool_version(pg_restore())
    assert listed.log.lines == 0
    assert listed.defects() == []


def test_the_table_of_contents_without_hash(archives: Archives) -> None:
    listed = list_archive(archives.custom, hash_file=False, client_bin=str(Path(pg_restore()).parent))
    assert listed.stream == StreamResult(bytes_read=archives.custom.stat().st_size, sha256=None)
    assert (listed.tables, listed.table_data, listed.defects()) == (2, 2, [])


def test_an_archive_without_tables(archives: Archives) -> None:
    listed = list_archive(archives.empty)
    assert (listed.returncode, listed.tables, listed.table_data) == (0, 0, 0)
    assert listed.defects() == [NO_TABLES]
    read = read_archive(archives.empty, directory=False)
    assert read.defects() == [NO_TABLES]


def test_a_truncated_archive_fails_its_listing(archives: Archives, tmp_path: Path) -> None:
    cut = tmp_path / "cut.dump"
    cut.write_bytes(archives.custom.read_bytes()[:600])
    listed = list_archive(cut)
    assert listed.returncode == 1
    assert listed.stream == StreamResult(bytes_read=600, sha256=sha(cut))
    assert listed.defects() == [
        "pg_restore cannot read the archive: pg_restore: error: could not read from input file: end of file"
        + ENDS_EARLY
    ]


def test_a_corrupt_data_block_passes_the_listing(archives: Archives, tmp_path: Path) -> None:
    """`--list` reads the table of contents only: the restore is what finds a damaged block."""
    bad = corrupt_data_block(archives.custom, tmp_path / "bad.dump")
    listed = list_archive(bad)
    assert (listed.returncode, listed.tables, listed.table_data, listed.defects()) == (0, 2, 2, [])


def test_archive_read_error_tells_an_unreadable_archive_from_a_database_error() -> None:
    unreadable = log_of(
        "pg_restore: error: could not execute query: ERROR:  relation exists",
        "pg_restore: error: could not read from input file: end of file",
        "pg_restore: error: second",
        "pg_restore: error: third",
    )
    assert archive_read_error(unreadable, "16") == (
        "pg_restore cannot read the archive: pg_restore: error: could not read from input file: end of file; "
        "pg_restore: error: second" + ENDS_EARLY
    )
    database = log_of("pg_restore: error: could not execute query: ERROR:  could not read from input file")
    assert archive_read_error(database) is None
    assert archive_read_error(log_of("pg_restore: error: role does not exist")) is None
    newer = log_of("pg_restore: error: unsupported version (1.16) in file header")
    assert archive_read_error(newer, "15.4") == (
        "pg_restore cannot read the archive: pg_restore: error: unsupported version (1.16) in file header (this "
        "pg_restore 15.4 is older than the pg_dump that wrote the archive; install a newer client or set client_bin)"
    )
    assert archive_read_error(newer) == (
        "pg_restore cannot read the archive: pg_restore: error: unsupported version (1.16) in file header (this "
        "pg_restore  is older than the pg_dump that wrote the archive; install a newer client or set client_bin)"
    )
    upper = log_of("pg_restore: error: COULD NOT UNCOMPRESS DATA: bad")
    assert (
        archive_read_error(upper, "16")
        == "pg_restore cannot read the archive: pg_restore: error: COULD NOT UNCOMPRESS DATA: bad"
    )


@pytest.mark.parametrize(
    "message",
    [
        "could not read input file",
        "could not read from input file",
        "end of file",
        "could not uncompress data",
        "could not find block ID 3340 in archive",
        "data block is corrupt",
        "did not find magic string in file header",
        "unsupported version (1.16) in file header",
        "unrecognized data block type (9) while searching archive",
        "unexpected end of file",
        "could not decompress data",
        "invalid compression code: 9",
    ],
)
def test_every_read_error_of_pg_restore_is_recognised(message: str) -> None:
    found = archive_read_error(log_of(f"pg_restore: error: {message}"), "17.2")
    assert found is not None
    assert found.startswith(f"pg_restore cannot read the archive: pg_restore: error: {message}")


def test_only_the_first_four_errors_are_looked_at() -> None:
    log = log_of(
        *(f"pg_restore: error: role r{i} does not exist" for i in range(4)), "pg_restore: error: corrupt"
    )
    assert archive_read_error(log) is None


def test_archive_hint_by_message() -> None:
    assert archive_hint("pg_restore: error: unsupported version (1.16) in file header", "15.4") == (
        " (this pg_restore 15.4 is older than the pg_dump that wrote the archive; install a newer client or set "
        "client_bin)"
    )
    assert archive_hint("could not read from input file: end of file", "15") == ENDS_EARLY
    assert archive_hint("unexpected end of data", "15") == ENDS_EARLY
    assert archive_hint("could not uncompress data", "15") == CORRUPT
    assert archive_hint("block is corrupt", "15") == CORRUPT
    assert archive_hint("invalid compression code", "15") == CORRUPT
    assert archive_hint("role does not exist", "15") == ""


def test_archive_dumped_from_reads_the_table_of_contents(archives: Archives, tmp_path: Path) -> None:
    assert archive_dumped_from(archives.custom) == archives.server_version
    assert archive_dumped_from(archives.custom, str(Path(pg_restore()).parent)) == archives.server_version
    assert archive_dumped_from(archives.custom, str(tmp_path)) is None  # no pg_restore there
    junk = tmp_path / "junk.dump"
    junk.write_bytes(b"not an archive")
    assert archive_dumped_from(junk) is None


def test_a_schema_only_archive_has_tables_and_passes_its_listing(archives: Archives) -> None:
    """Tables without data are not "no tables": an empty table is still a table (the verdict judges rows)."""
    listed = list_archive(archives.schema_only)
    assert (listed.returncode, listed.tables, listed.table_data, listed.defects()) == (0, 2, 0, [])


def test_names_that_are_not_utf_8_do_not_stop_the_listing(archives: Archives) -> None:
    """pg_restore --list prints names as stored: a LATIN1 `café` in an SQL_ASCII database is the byte 0xE9."""
    listed = list_archive(archives.latin1)
    assert (listed.returncode, listed.tables, listed.table_data, listed.defects()) == (0, 1, 1, [])
    assert archive_dumped_from(archives.latin1) == archives.server_version


def test_a_listing_that_hangs_is_stopped_at_its_timeout_and_named(tmp_path: Path) -> None:
    """A named pipe nobody writes to: `pg_restore --list` blocks opening it until the timeout stops it."""
    hanging = tmp_path / "hangs.dump"
    os.mkfifo(hanging)
    listed = list_archive(hanging, hash_file=False, timeout=1)
    assert (listed.returncode, listed.tables, listed.table_data, listed.dumped_from) == (1, 0, 0, None)
    assert listed.stream == StreamResult(bytes_read=0, sha256=None)
    assert listed.defects()[0].startswith(
        "pg_restore cannot read the archive: pg_restore: error: reading the table of contents took more than 1 s"
    )


def test_a_version_read_that_hangs_is_unknown_after_its_timeout(tmp_path: Path) -> None:
    hanging = tmp_path / "hangs.dump"
    os.mkfifo(hanging)
    assert archive_dumped_from(hanging, timeout=1) is None
