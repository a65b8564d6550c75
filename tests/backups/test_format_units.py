"""The format modules (opsverify/backups/formats/*) on files built here: what each reader puts on the inspection,
each defect's whole sentence, the checksum switch, and the remote verifiers run on this machine (`via:` local:
the same commands a remote machine runs). The unit tests `make mutation` judges the format modules with."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import re
import sqlite3
import subprocess
import tarfile
from pathlib import Path

import pytest

from opsverify.backups.files import stat_backup
from opsverify.backups.formats import json_doc, mysql_plain, pg_custom, pg_directory, pg_plain, sqlite, tar
from opsverify.backups.formats.base import BackupFormat, ReadOptions, RemoteVerifier, run_on
from opsverify.backups.inspection import Detected, Inspection
from opsverify.backups.pgtools import ToolMissing
from opsverify.connect import ConnectError
from opsverify.connect.local import LocalConnection
from tests.backups.pgdumps import Dumps

HERE = LocalConnection()
NOT_GZIP = "not a gzip stream (bad header)"
EMPTY_GZIP_PG = (
    "gzip stream inflates to 0 bytes (a gzip of an empty stream, ~20 bytes): pg_dump produced no output; check "
    "the backup job's log"
)
EMPTY_GZIP_MYSQL = (
    "gzip stream inflates to 0 bytes (a gzip of an empty stream, ~20 bytes): mysqldump produced no output (a "
    "failed `mysqldump | gzip` pipeline still writes one); check the backup job's log"
)
EMPTY_SQL = "the dump is empty (0 bytes of SQL): the dump command produced no output; check its log"
PG_DUMP = """--
-- PostgreSQL database dump
--

-- Dumped from database version 16.4

CREATE TABLE public.t (id integer);

COPY public.t (id) FROM stdin;
1
\\.

INSERT INTO public.t VALUES (2);

--
-- PostgreSQL database dump complete
--
"""
MYSQL_DUMP = """-- MariaDB dump 10.19  Distrib 10.11.6-MariaDB, for debian-linux-gnu (x86_64)
--
-- Host: localhost    Database: shop
-- ------------------------------------------------------
-- Server version\t10.11.6-MariaDB-0+deb12u1

CREATE TABLE `t` (`id` int);
INSERT INTO `t` VALUES (1);
-- Dump completed on 2026-12-07 10:00:00
"""
EARLIER = "a defect found before the read"


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def inspect(fmt: BackupFormat, path: Path, detected: Detected, **options: object) -> Inspection:
    """`fmt.read` of `path` into an inspection that already holds one defect (a reader adds, never replaces)."""
    out = Inspection(detected.label, detected, defects=[EARLIER])
    fmt.read(stat_backup(path), detected, out, ReadOptions(**options))  # type: ignore[arg-type]
    return out


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# --- base ----------------------------------------------------------------------------------------------


def test_run_on_passes_the_arguments_and_strips_both_outputs() -> None:
    script = 'printf "  %s %s  \\n" "$0" "$1"; echo "  oops  " >&2; exit 3'
    assert run_on(HERE, script, 30, "the path") == (3, "sh the path", "oops")


def test_run_on_refuses_a_command_that_outlives_its_timeout() -> None:
    with pytest.raises(ConnectError) as raised:
        run_on(HERE, "sleep 30", 0.5)
    assert str(raised.value) == "verifying on this machine did not finish within 0.5s"


def test_a_format_is_conclusive_by_its_magic_or_its_folder_layout_only() -> None:
    def read(*_args: object) -> None:
        return None

    assert BackupFormat("m", read, magic=lambda head: True).conclusive
    assert BackupFormat("d", read, directory=lambda path: True).conclusive
    assert not BackupFormat("t", read, text=lambda head: True, extensions=(".t",)).conclusive


# --- pg-plain ------------------------------------------------------------------------------------------


def test_a_pg_plain_dump_fills_the_inspection(tmp_path: Path) -> None:
    path = write(tmp_path / "db.sql", PG_DUMP.encode())
    out = inspect(pg_plain.FORMAT, path, Detected("pg-plain"))
    assert (out.bytes_read, out.inflated_bytes, out.sha256) == (len(PG_DUMP), None, sha(path))
    assert (out.header, out.trailer, out.create_tables, out.copies, out.inserts) == (True, True, 1, 1, 1)
    assert (out.dumped_from, out.defects) == ("16.4", [EARLIER])
    assert inspect(pg_plain.FORMAT, path, Detected("pg-plain"), hash_file=False).sha256 is None


def test_a_gzipped_pg_plain_dump_counts_its_inflated_bytes(tmp_path: Path) -> None:
    path = write(tmp_path / "db.sql.gz", gzip.compress(PG_DUMP.encode()))
    out = inspect(pg_plain.FORMAT, path, Detected("pg-plain", gzip=True))
    assert (out.bytes_read, out.inflated_bytes, out.sha256) == (path.stat().st_size, len(PG_DUMP), sha(path))
    assert (out.header, out.trailer, out.defects) == (True, True, [EARLIER])


@pytest.mark.parametrize(
    ("fmt", "name", "empty_gzip"),
    [(pg_plain.FORMAT, "pg-plain", EMPTY_GZIP_PG), (mysql_plain.FORMAT, "mysql-plain", EMPTY_GZIP_MYSQL)],
)
def test_an_sql_dump_that_is_empty_broken_or_an_empty_gzip_has_one_defect(
    tmp_path: Path, fmt: BackupFormat, name: str, empty_gzip: str
) -> None:
    empty = write(tmp_path / "empty.sql", b"")
    assert inspect(fmt, empty, Detected(name)).defects == [EARLIER, EMPTY_SQL]
    empty_gz = write(tmp_path / "empty.sql.gz", gzip.compress(b""))
    assert inspect(fmt, empty_gz, Detected(name, gzip=True)).defects == [EARLIER, empty_gzip]
    broken = write(tmp_path / "broken.sql.gz", b"-- not gzip at all\n")
    assert inspect(fmt, broken, Detected(name, gzip=True)).defects == [EARLIER, NOT_GZIP]


def test_pg_plain_verified_on_a_machine_reads_the_trailer_at_the_end(tmp_path: Path) -> None:
    path = write(tmp_path / "db.sql", PG_DUMP.encode())
    found = pg_plain.verify_remote(HERE, str(path), False, 30)
    assert (found.format, found.trailer, found.defects) == ("pg-plain", True, [])
    packed = write(tmp_path / "db.sql.gz", gzip.compress(PG_DUMP.encode()))
    found = pg_plain.verify_remote(HERE, str(packed), True, 30)
    assert (found.format, found.trailer, found.defects) == ("pg-plain-gz", True, [])


def test_pg_plain_verified_on_a_machine_without_its_trailer_is_truncated(tmp_path: Path) -> None:
    cut = PG_DUMP.split("--\n-- PostgreSQL database dump complete")[0]
    path = write(tmp_path / "db.sql", cut.encode())
    found = pg_plain.verify_remote(HERE, str(path), False, 30)
    assert (found.format, found.trailer) == ("pg-plain", False)
    assert found.defects == [
        "has no '-- PostgreSQL database dump complete' trailer at its end: pg_dump did not finish (truncated dump)"
    ]
    plain_read_as_gzip = pg_plain.verify_remote(
        HERE, str(write(tmp_path / "x.sql", PG_DUMP.encode())), True, 30
    )
    assert (plain_read_as_gzip.format, plain_read_as_gzip.trailer) == ("pg-plain-gz", False)
    assert len(plain_read_as_gzip.defects) == 1


def test_pg_plain_verified_on_a_machine_looks_at_the_last_4096_bytes_only(tmp_path: Path) -> None:
    trailer = "PostgreSQL database dump complete"
    inside = write(tmp_path / "in.sql", (trailer + "x" * (4096 - len(trailer))).encode())
    assert pg_plain.verify_remote(HERE, str(inside), False, 30).trailer
    outside = write(tmp_path / "out.sql", (trailer + "x" * (4097 - len(trailer))).encode())
    assert not pg_plain.verify_remote(HERE, str(outside), False, 30).trailer


@pytest.mark.parametrize(
    ("head", "sql"),
    [
        (b"\xef\xbb\xbf \t\r\n-- PostgreSQL", True),
        (b"--", True),
        (b"SET x = 1; -- PostgreSQL database dump", True),
        (b"x" * (2048 - 24) + b"PostgreSQL database dump", True),
        (b"x" * (2049 - 24) + b"PostgreSQL database dump", False),
        (b"SET x = 1;", False),
        (b"- - not a comment", False),
        (b"X-- not at the start", False),
        (b"", False),
    ],
)
def test_what_looks_like_sql(head: bytes, sql: bool) -> None:
    assert pg_plain.looks_like_sql(head) is sql


# --- mysql-plain ---------------------------------------------------------------------------------------


def test_a_mysqldump_fills_the_inspection(tmp_path: Path) -> None:
    path = write(tmp_path / "shop.sql", MYSQL_DUMP.encode())
    out = inspect(mysql_plain.FORMAT, path, Detected("mysql-plain"))
    assert (out.bytes_read, out.inflated_bytes, out.sha256) == (len(MYSQL_DUMP), None, sha(path))
    assert (out.header, out.trailer, out.create_tables, out.inserts) == (True, True, 1, 1)
    assert (out.dumped_from, out.databases, out.defects) == ("10.11.6-MariaDB-0+deb12u1", ["shop"], [EARLIER])
    assert inspect(mysql_plain.FORMAT, path, Detected("mysql-plain"), hash_file=False).sha256 is None
    packed = write(tmp_path / "shop.sql.gz", gzip.compress(MYSQL_DUMP.encode()))
    out = inspect(mysql_plain.FORMAT, packed, Detected("mysql-plain", gzip=True))
    assert (out.inflated_bytes, out.sha256, out.trailer, out.defects) == (
        len(MYSQL_DUMP),
        sha(packed),
        True,
        [EARLIER],
    )


def test_a_mysqldump_cut_short_has_the_scanners_defects(tmp_path: Path) -> None:
    path = write(tmp_path / "shop.sql", MYSQL_DUMP.split("-- Dump completed")[0].encode())
    assert inspect(mysql_plain.FORMAT, path, Detected("mysql-plain")).defects == [
        EARLIER,
        "no '-- Dump completed on' trailer at the end: the dump was cut short (killed mysqldump, disk full, "
        "truncated copy) or made with --skip-dump-date/--skip-comments; it ends with: -- Server version\t"
        "10.11.6-MariaDB-0+deb12u1 | CREATE TABLE `t` (`id` int); | INSERT INTO `t` VALUES (1);",
    ]


# --- json ----------------------------------------------------------------------------------------------


def test_a_json_document_fills_the_inspection(tmp_path: Path) -> None:
    path = write(tmp_path / "export.json.gz", gzip.compress(b'{"data": {"rows": [1, 2, 3]}}'))
    out = inspect(json_doc.FORMAT, path, Detected("json", gzip=True), items_path="data.rows")
    assert (out.bytes_read, out.sha256, out.items, out.defects) == (
        path.stat().st_size,
        sha(path),
        3,
        [EARLIER],
    )
    out = inspect(json_doc.FORMAT, path, Detected("json", gzip=True), items_path="data.rows", hash_file=False)
    assert (out.sha256, out.items) == (None, 3)
    out = inspect(json_doc.FORMAT, path, Detected("json", gzip=True), items_path="data.none")
    assert (out.items, out.defects) == (None, [EARLIER, "items_path 'data.none' is not in the document"])


@pytest.mark.parametrize(
    ("head", "json"),
    [
        (b"\xef\xbb\xbf \t\r\n[", True),
        (b"{", True),
        (b"[1, 2]", True),
        (b'\n\n{"a": 1}', True),
        (b"x[", False),
        (b"X[", False),
        (b"", False),
        (b"\xef\xbb\xbf", False),
    ],
)
def test_what_looks_like_json(head: bytes, json: bool) -> None:
    assert json_doc.looks_like_json(head) is json


# --- sqlite --------------------------------------------------------------------------------------------


def sqlite_db(path: Path) -> Path:
    connection = sqlite3.connect(path)
    with connection:
        connection.execute("create table notes (id integer primary key)")
        connection.execute("create table accounts (id integer primary key)")
    connection.close()
    return path


def test_an_sqlite_backup_fills_the_inspection(tmp_path: Path) -> None:
    raw = sqlite_db(tmp_path / "made.db").read_bytes()
    path = write(tmp_path / "app.db.gz", gzip.compress(raw))
    out = inspect(sqlite.FORMAT, path, Detected("sqlite", gzip=True))
    assert (out.bytes_read, out.inflated_bytes, out.sha256) == (path.stat().st_size, len(raw), sha(path))
    assert (out.tables, out.defects) == (["accounts", "notes"], [EARLIER])
    assert inspect(sqlite.FORMAT, path, Detected("sqlite", gzip=True), hash_file=False).sha256 is None
    broken = write(tmp_path / "bad.db", b"SQLite format 2\x00")
    assert inspect(sqlite.FORMAT, broken, Detected("sqlite")).defects == [
        EARLIER,
        "no 'SQLite format 3' header: not an SQLite database file",
    ]


def test_sqlite_verified_on_a_machine(tmp_path: Path) -> None:
    good = sqlite.verify_remote(HERE, str(sqlite_db(tmp_path / "app.db")), False, 30)
    assert (good.format, good.detected, good.defects) == ("sqlite", Detected("sqlite"), [])
    bad = sqlite.verify_remote(
        HERE, str(write(tmp_path / "bad.db", b"SQLite format 3\x00" + bytes(200))), False, 30
    )
    assert bad.defects == [
        "fails PRAGMA integrity_check on this machine: Error: in prepare, file is not a database (26)"
    ]


def test_sqlite_verified_on_a_machine_shows_200_characters_of_the_error(tmp_path: Path) -> None:
    folder = tmp_path / ("d" * 120) / ("e" * 120)
    missing = folder / "app.db"
    found = sqlite.verify_remote(HERE, str(missing), False, 30)
    (defect,) = found.defects
    prefix = "fails PRAGMA integrity_check on this machine: "
    assert defect.startswith(prefix + "Error: unable to open database ")
    assert len(defect) == len(prefix) + 200


def test_sqlite_verified_on_a_machine_without_sqlite3_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    os.symlink("/bin/sh", bin_dir / "sh")
    monkeypatch.setenv("PATH", str(bin_dir))
    found = sqlite.verify_remote(HERE, str(tmp_path / "app.db"), False, 30)
    assert found.defects == ["cannot verify: sqlite3 is not installed on this machine (apt install sqlite3)"]


# --- tar -----------------------------------------------------------------------------------------------


def tar_file(path: Path, *, gz: bool) -> Path:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        archive.addfile(_dir("d"))
        for name in ("d/a", "d/b"):
            member = tarfile.TarInfo(name)
            member.size = 3
            archive.addfile(member, io.BytesIO(b"abc"))
    data = buffer.getvalue()
    return write(path, gzip.compress(data) if gz else data)


def _dir(name: str) -> tarfile.TarInfo:
    member = tarfile.TarInfo(name)
    member.type = tarfile.DIRTYPE
    return member


def test_a_tar_archive_fills_the_inspection(tmp_path: Path) -> None:
    path = tar_file(tmp_path / "files.tar.gz", gz=True)
    out = inspect(tar.FORMAT, path, Detected("tar", gzip=True))
    assert (out.bytes_read, out.sha256, out.members, out.files) == (path.stat().st_size, sha(path), 3, 2)
    assert out.defects == [EARLIER]
    assert inspect(tar.FORMAT, path, Detected("tar", gzip=True), hash_file=False).sha256 is None
    cut = write(tmp_path / "cut.tar", b"\x00" * 1024)
    assert inspect(tar.FORMAT, cut, Detected("tar")).defects == [
        EARLIER,
        "archive has no members: the backup job archived an empty or missing folder",
    ]


@pytest.mark.parametrize(("gz", "label"), [(False, "tar"), (True, "tar (gzip)")])
def test_tar_verified_on_a_machine_counts_members_and_files(tmp_path: Path, gz: bool, label: str) -> None:
    path = tar_file(tmp_path / "files.tar", gz=gz)
    found = tar.verify_remote(HERE, str(path), gz, 30)
    assert (found.format, found.detected, found.defects) == (label, Detected("tar", gzip=gz), [])
    assert (found.members, found.files) == (3, 2)


def test_tar_verified_on_a_machine_names_tars_error_s_last_200_characters(tmp_path: Path) -> None:
    missing = tmp_path / ("d" * 150) / ("e" * 150) / "files.tar"
    found = tar.verify_remote(HERE, str(missing), False, 30)
    (defect,) = found.defects
    prefix, suffix = "is not a readable tar archive (`tar -t` on this machine: ", ")"
    assert defect.startswith(prefix)
    assert defect.endswith("Error is not recoverable: exiting now" + suffix)
    assert len(defect) == len(prefix) + 200 + len(suffix)
    assert (found.members, found.files) == (0, 0)


# --- pg-custom and pg-directory (real pg_dump output, tests/backups/pgdumps.py) ---------------------------


def restored_sql_bytes(path: Path) -> int:
    return len(subprocess.run(["pg_restore", "-f", "-", str(path)], capture_output=True, check=True).stdout)


def test_a_custom_archive_is_read_whole_through_pg_restore(dumps: Dumps) -> None:
    out = inspect(pg_custom.FORMAT, dumps.custom, Detected("pg-custom"))
    assert (out.bytes_read, out.sha256) == (dumps.custom.stat().st_size, sha(dumps.custom))
    assert out.inflated_bytes == restored_sql_bytes(dumps.custom)
    assert (out.header, out.trailer, out.create_tables, out.copies, out.inserts) == (True, True, 4, 4, 0)
    assert out.dumped_from is not None
    assert re.fullmatch(r"\d+\.\d+.*", out.dumped_from)
    assert out.defects == [EARLIER]
    assert inspect(pg_custom.FORMAT, dumps.custom, Detected("pg-custom"), hash_file=False).sha256 is None


def test_a_directory_dump_is_read_whole_through_pg_restore(dumps: Dumps) -> None:
    out = inspect(pg_directory.FORMAT, dumps.directory, Detected("pg-directory"))
    assert (out.header, out.trailer, out.create_tables, out.copies) == (True, True, 4, 4)
    assert out.inflated_bytes == restored_sql_bytes(dumps.directory)
    assert out.defects == [EARLIER]


def test_a_custom_archive_is_read_with_the_client_bin_it_names(tmp_path: Path, dumps: Dumps) -> None:
    empty = tmp_path / "no-clients"
    empty.mkdir()
    with pytest.raises(ToolMissing) as raised:
        inspect(pg_custom.FORMAT, dumps.custom, Detected("pg-custom"), client_bin=str(empty))
    assert str(raised.value) == (
        f"pg_restore not found in client_bin {empty}; point client_bin at the folder holding it"
    )
    with pytest.raises(ToolMissing):
        pg_custom.read_toc(
            stat_backup(dumps.custom), Inspection("pg-custom"), ReadOptions(client_bin=str(empty))
        )


def test_the_table_of_contents_of_a_custom_archive(dumps: Dumps) -> None:
    out = Inspection("pg-custom", Detected("pg-custom"), defects=[EARLIER])
    pg_custom.read_toc(stat_backup(dumps.custom), out, ReadOptions())
    assert (out.bytes_read, out.sha256) == (dumps.custom.stat().st_size, sha(dumps.custom))
    assert (out.header, out.create_tables, out.copies, out.defects) == (True, 4, 4, [EARLIER])
    whole = inspect(pg_custom.FORMAT, dumps.custom, Detected("pg-custom"))
    assert out.dumped_from is not None
    assert whole.dumped_from is not None
    assert out.dumped_from.split(" ")[0] == whole.dumped_from  # the TOC adds the build: 15.20 (Debian ...)
    unhashed = Inspection("pg-custom")
    pg_custom.read_toc(stat_backup(dumps.custom), unhashed, ReadOptions(hash_file=False))
    assert (unhashed.bytes_read, unhashed.sha256) == (dumps.custom.stat().st_size, None)


def test_the_table_of_contents_of_a_broken_archive(tmp_path: Path) -> None:
    path = write(tmp_path / "db.dump", b"PGDMP" + bytes(range(256)) * 4)
    out = Inspection("pg-custom", Detected("pg-custom"), defects=[EARLIER])
    pg_custom.read_toc(stat_backup(path), out, ReadOptions())
    assert (out.header, out.create_tables, out.copies, out.dumped_from) == (False, 0, 0, None)
    assert out.defects[0] == EARLIER
    assert out.defects[1].startswith("pg_restore cannot read the archive: ")
    assert len(out.defects) == 2


def fifo(path: Path) -> Path:
    """A named pipe nobody writes to: reading it blocks until the verifier's timeout."""
    os.mkfifo(path)
    return path


@pytest.mark.parametrize(
    ("verify", "name"),
    [(pg_plain.verify_remote, "db.sql"), (sqlite.verify_remote, "app.db"), (tar.verify_remote, "files.tar")],
)
def test_a_remote_verification_that_hangs_is_stopped_at_its_timeout(
    tmp_path: Path, verify: RemoteVerifier, name: str
) -> None:
    with pytest.raises(ConnectError) as raised:
        verify(HERE, str(fifo(tmp_path / name)), False, 1)
    assert str(raised.value) == "verifying on this machine did not finish within 1s"


def test_sqlite_verified_on_a_machine_fails_on_findings_even_when_sqlite3_exits_0(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    connection = sqlite3.connect(path)
    connection.execute("create table t (a, b)")
    connection.execute("create index i on t (a)")
    connection.executemany("insert into t values (?, ?)", [(n, 1000 - n) for n in range(30)])
    connection.commit()
    connection.execute("pragma writable_schema = on")
    connection.execute("update sqlite_master set sql = 'CREATE INDEX i ON t (b)' where name = 'i'")
    connection.commit()
    connection.close()
    findings = "\n".join(f"row {n} missing from index i" for n in range(1, 31))
    assert sqlite.verify_remote(HERE, str(path), False, 30).defects == [
        f"fails PRAGMA integrity_check on this machine: {findings[:200]}"
    ]
