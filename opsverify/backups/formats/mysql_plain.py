"""mysqldump / mariadb-dump SQL (`mysql-plain`, gzip-compressed `mysql-plain-gz`): header, trailer, statements."""

from __future__ import annotations

from opsverify.backups.files import BackupFile
from opsverify.backups.formats.base import BackupFormat, ReadOptions
from opsverify.backups.inspection import Detected, Inspection
from opsverify.backups.mysql_dump import MysqlDumpScanner, starts_with_header
from opsverify.backups.stream import StreamResult, read_once


def read(backup: BackupFile, detected: Detected, out: Inspection, options: ReadOptions) -> None:
    scanner = MysqlDumpScanner()
    stream = read_once(backup.path, gzip=detected.gzip, sinks=[scanner], hash_file=options.hash_file)
    judge_mysql(detected, stream, scanner, out)


def judge_mysql(detected: Detected, stream: StreamResult, scanner: MysqlDumpScanner, out: Inspection) -> None:
    """The inspection of a mysqldump from one read of it (`scanner` was one of its sinks): the integrity
    check's own read, or the restore drill's, which feeds the client from the same stream."""
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


FORMAT = BackupFormat(
    name="mysql-plain",
    read=read,
    declared={"mysql-plain": None, "mysql-plain-gz": True},
    magic=starts_with_header,  # `-- MySQL dump 10.19 ...` / `-- MariaDB dump 10.19 ...`
    restore="mysql",
    gz_suffix=True,
)
