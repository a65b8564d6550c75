"""Integrity of one backup by format, in one read: hash, inflate and format check together."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from opsverify.backups.files import BackupFile
from opsverify.backups.formats import Detected, FormatError, detect_format
from opsverify.backups.json_document import read_json
from opsverify.backups.mysql_dump import MysqlDumpScanner
from opsverify.backups.pg_archive import list_archive, read_archive
from opsverify.backups.pgtools import ToolMissing
from opsverify.backups.plain_sql import PlainSqlScanner
from opsverify.backups.sqlite_backup import copy_and_check
from opsverify.backups.stream import StreamResult, read_once
from opsverify.backups.tar_archive import read_tar
from opsverify.units import format_size, plural

SQL_FORMATS = ("pg-plain", "pg-custom", "pg-directory", "mysql-plain")


@dataclass
class Inspection:
    """What one read of the backup found. `defects` are format problems that no setting excuses."""

    format: str
    detected: Detected | None = None
    bytes_read: int = 0
    inflated_bytes: int | None = None
    sha256: str | None = None
    seconds: float = 0.0
    defects: list[str] = field(default_factory=list)
    header: bool = False
    trailer: bool = False
    create_tables: int = 0
    copies: int = 0
    inserts: int = 0
    dumped_from: str | None = None
    databases: list[str] = field(default_factory=list)  # mysql-plain: the header's Database: and each USE
    members: int = 0
    files: int = 0
    items: int | None = None
    tables: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        """The format without compression: pg-plain, pg-custom, pg-directory, sqlite, tar, json, gzip."""
        return self.detected.format if self.detected is not None else "unknown"

    @property
    def is_sql(self) -> bool:
        return self.detected is not None and self.detected.format in SQL_FORMATS

    @property
    def data_sections(self) -> int:
        return self.copies + self.inserts

    def summary(self) -> str:
        """One line for evidence: format, sizes, what was found."""
        parts = [self.format, f"{format_size(self.bytes_read)} read"]
        if self.inflated_bytes is not None:
            parts.append(f"{format_size(self.inflated_bytes)} inflated")
        if self.kind == "mysql-plain":
            parts.append(f"{self.create_tables} CREATE TABLE, {self.inserts} INSERT")
            parts.append(f"trailer {'present' if self.trailer else 'MISSING'}")
            if self.databases:
                parts.append(f"database {', '.join(self.databases[:5])}")
            if self.dumped_from:
                parts.append(f"dumped from {self.dumped_from}")
        elif self.is_sql:
            parts.append(f"{self.create_tables} CREATE TABLE, {self.copies} COPY, {self.inserts} INSERT")
            parts.append(f"trailer {'present' if self.trailer else 'MISSING'}")
            if self.dumped_from:
                parts.append(f"dumped from PostgreSQL {self.dumped_from}")
        elif self.detected and self.detected.format == "tar":
            parts.append(f"{plural(self.files, 'file')} in {plural(self.members, 'member')}")
        elif self.detected and self.detected.format == "json":
            parts.append(plural(self.items or 0, "item"))
        elif self.detected and self.detected.format == "sqlite":
            parts.append(plural(len(self.tables), "table"))
        if self.sha256:
            parts.append(f"sha256 {self.sha256[:16]}…")
        return ", ".join(parts) + f" in {self.seconds:.2f}s"


def inspect_backup(
    backup: BackupFile,
    *,
    declared: str = "auto",
    items_path: str | None = None,
    client_bin: str | None = None,
    hash_file: bool = True,
) -> Inspection:
    """Read `backup` once and report its format, hash and defects. Never raises for a broken backup."""
    started = time.monotonic()
    inspection = _inspect(backup, declared, items_path, client_bin, hash_file)
    inspection.seconds = time.monotonic() - started
    return inspection


def inspect_archive_toc(
    backup: BackupFile, *, client_bin: str | None = None, hash_file: bool = True
) -> Inspection:
    """A custom archive that a drill restores beside this check: its hash and table of contents only.

    The data blocks are read and decompressed by the restoring pg_restore; the drill adds its read errors
    to `defects` (`archive_read_error`) and sets `trailer` once the restore read the archive to its end."""
    started = time.monotonic()
    inspection = _inspect(backup, "pg-custom", None, client_bin, hash_file, toc_only=True)
    inspection.seconds = time.monotonic() - started
    return inspection


def _inspect(
    backup: BackupFile,
    declared: str,
    items_path: str | None,
    client_bin: str | None,
    hash_file: bool,
    *,
    toc_only: bool = False,
) -> Inspection:
    if backup.size == 0:
        return Inspection(
            declared if declared != "auto" else "unknown",
            defects=[
                "is empty (0 bytes): the backup job wrote nothing; check its log (disk full? credentials?)"
            ],
        )
    try:
        detected = detect_format(backup, declared)
    except FormatError as exc:
        return Inspection(declared if declared != "auto" else "unknown", defects=[str(exc)])
    except OSError as exc:
        return Inspection("unknown", defects=[f"cannot read: {exc.strerror or exc}"])
    inspection = Inspection(detected.label, detected)
    try:
        if toc_only and detected.format == "pg-custom":
            _archive_toc(backup, inspection, client_bin, hash_file)
        else:
            _READERS[detected.format](backup, detected, inspection, items_path, client_bin, hash_file)
    except ToolMissing as exc:
        inspection.defects.append(str(exc))
    except OSError as exc:
        inspection.defects.append(f"cannot read: {exc.strerror or exc}")
    return inspection


def _plain(
    backup: BackupFile,
    detected: Detected,
    out: Inspection,
    _items: str | None,
    _bin: str | None,
    hash_file: bool,
) -> None:
    scanner = PlainSqlScanner()
    stream = read_once(backup.path, gzip=detected.gzip, sinks=[scanner], hash_file=hash_file)
    judge_plain(detected, stream, scanner, out)


def judge_plain(detected: Detected, stream: StreamResult, scanner: PlainSqlScanner, out: Inspection) -> None:
    """The inspection of a pg_dump plain-SQL backup from one read of it (`scanner` was one of its sinks):
    the integrity check's own read, or the restore drill's, which feeds psql from the same stream."""
    out.bytes_read, out.inflated_bytes, out.sha256 = stream.bytes_read, stream.inflated_bytes, stream.sha256
    scan = scanner.finish()
    _copy_scan(scan, out)
    if stream.gzip_error:
        out.defects.append(stream.gzip_error)
        return
    if detected.gzip and stream.inflated_bytes == 0:
        out.defects.append(
            "gzip stream inflates to 0 bytes (a gzip of an empty stream, ~20 bytes): pg_dump produced no "
            "output; check the backup job's log"
        )
        return
    out.defects += scan.defects(scanner.bytes_seen)


def _mysql(
    backup: BackupFile,
    detected: Detected,
    out: Inspection,
    _items: str | None,
    _bin: str | None,
    hash_file: bool,
) -> None:
    scanner = MysqlDumpScanner()
    stream = read_once(backup.path, gzip=detected.gzip, sinks=[scanner], hash_file=hash_file)
    judge_mysql(detected, stream, scanner, out)


def judge_mysql(detected: Detected, stream: StreamResult, scanner: MysqlDumpScanner, out: Inspection) -> None:
    """The inspection of a mysqldump backup from one read of it (`scanner` was one of its sinks)."""
    out.bytes_read, out.inflated_bytes, out.sha256 = stream.bytes_read, stream.inflated_bytes, stream.sha256
    scan = scanner.finish()
    out.header, out.trailer, out.create_tables, out.inserts = (
        scan.header,
        scan.trailer,
        scan.create_tables,
        scan.inserts,
    )
    out.dumped_from, out.databases = scan.server_version, scan.databases
    if stream.gzip_error:
        out.defects.append(stream.gzip_error)
        return
    if detected.gzip and stream.inflated_bytes == 0:
        out.defects.append(
            "gzip stream inflates to 0 bytes (a gzip of an empty stream, ~20 bytes): mysqldump produced no "
            "output (a failed `mysqldump | gzip` pipeline still writes one); check the backup job's log"
        )
        return
    out.defects += scan.defects(scanner.bytes_seen)


def _archive(
    backup: BackupFile,
    detected: Detected,
    out: Inspection,
    _items: str | None,
    client_bin: str | None,
    hash_file: bool,
) -> None:
    directory = detected.format == "pg-directory"
    read = read_archive(backup.path, directory=directory, client_bin=client_bin, hash_file=hash_file)
    out.bytes_read, out.sha256 = read.stream.bytes_read, read.stream.sha256
    out.inflated_bytes = read.sql_bytes
    _copy_scan(read.scan, out)
    out.defects += read.defects()


def _archive_toc(backup: BackupFile, out: Inspection, client_bin: str | None, hash_file: bool) -> None:
    listed = list_archive(backup.path, client_bin=client_bin, hash_file=hash_file)
    out.bytes_read, out.sha256 = listed.stream.bytes_read, listed.stream.sha256
    out.header = listed.returncode == 0
    out.create_tables, out.copies, out.dumped_from = listed.tables, listed.table_data, listed.dumped_from
    out.defects += listed.defects()


def _sqlite(
    backup: BackupFile,
    detected: Detected,
    out: Inspection,
    _items: str | None,
    _bin: str | None,
    hash_file: bool,
) -> None:
    with tempfile.TemporaryDirectory(prefix="opsverify-sqlite-") as workdir:
        read = copy_and_check(backup.path, gzip=detected.gzip, workdir=Path(workdir), hash_file=hash_file)
    out.bytes_read, out.sha256 = read.stream.bytes_read, read.stream.sha256
    out.inflated_bytes = read.stream.inflated_bytes
    out.tables = read.tables
    out.defects += read.defects()


def _tar(
    backup: BackupFile,
    detected: Detected,
    out: Inspection,
    _items: str | None,
    _bin: str | None,
    hash_file: bool,
) -> None:
    read = read_tar(backup.path, gzip=detected.gzip, hash_file=hash_file)
    out.bytes_read, out.sha256, out.members, out.files = (
        read.bytes_read,
        read.sha256,
        read.members,
        read.files,
    )
    out.defects += read.defects()


def _json(
    backup: BackupFile,
    detected: Detected,
    out: Inspection,
    items_path: str | None,
    _bin: str | None,
    hash_file: bool,
) -> None:
    read = read_json(backup.path, gzip=detected.gzip, items_path=items_path, hash_file=hash_file)
    out.bytes_read, out.sha256, out.items = read.bytes_read, read.sha256, read.items
    out.defects += read.defects()


def _gzip(
    backup: BackupFile,
    _detected: Detected,
    out: Inspection,
    _items: str | None,
    _bin: str | None,
    hash_file: bool,
) -> None:
    judge_gzip(read_once(backup.path, gzip=True, sinks=[], hash_file=hash_file), out)


def judge_gzip(stream: StreamResult, out: Inspection) -> None:
    """The inspection of a gzip file of unknown content from one read of it."""
    out.bytes_read, out.inflated_bytes, out.sha256 = stream.bytes_read, stream.inflated_bytes, stream.sha256
    if stream.gzip_error:
        out.defects.append(stream.gzip_error)
    elif stream.inflated_bytes == 0:
        out.defects.append("gzip stream inflates to 0 bytes (a gzip of an empty stream): not a backup")


def _copy_scan(scan: object, out: Inspection) -> None:
    for name in ("header", "trailer", "create_tables", "copies", "inserts", "dumped_from"):
        setattr(out, name, getattr(scan, name))


_READERS = {
    "pg-plain": _plain,
    "pg-custom": _archive,
    "pg-directory": _archive,
    "mysql-plain": _mysql,
    "sqlite": _sqlite,
    "tar": _tar,
    "json": _json,
    "gzip": _gzip,
}
