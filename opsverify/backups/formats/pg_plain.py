"""pg_dump plain SQL (`pg-plain`, gzip-compressed `pg-plain-gz`): header, trailer and statements in one read."""

from __future__ import annotations

from opsverify.backups.files import BackupFile
from opsverify.backups.formats.base import BackupFormat, ReadOptions, run_on
from opsverify.backups.inspection import Detected, Inspection
from opsverify.backups.plain_sql import PlainSqlScan, PlainSqlScanner
from opsverify.backups.stream import StreamResult, read_once
from opsverify.connect import Connection

PG_TRAILER = "PostgreSQL database dump complete"


def read(backup: BackupFile, detected: Detected, out: Inspection, options: ReadOptions) -> None:
    scanner = PlainSqlScanner()
    stream = read_once(backup.path, gzip=detected.gzip, sinks=[scanner], hash_file=options.hash_file)
    judge_plain(detected, stream, scanner, out)


def judge_plain(detected: Detected, stream: StreamResult, scanner: PlainSqlScanner, out: Inspection) -> None:
    """The inspection of a pg_dump plain-SQL backup from one read of it (`scanner` was one of its sinks):
    the integrity check's own read, or the restore drill's, which feeds psql from the same stream."""
    out.bytes_read, out.inflated_bytes, out.sha256 = stream.bytes_read, stream.inflated_bytes, stream.sha256
    scan = scanner.finish()
    copy_scan(scan, out)
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


def copy_scan(scan: PlainSqlScan, out: Inspection) -> None:
    """What the SQL scan found, onto the inspection (plain dumps, and the SQL a custom archive turns into)."""
    for name in ("header", "trailer", "create_tables", "copies", "inserts", "dumped_from"):
        setattr(out, name, getattr(scan, name))


def verify_remote(machine: Connection, path: str, gzip: bool, timeout: float) -> Inspection:
    """The trailer at the end of the (inflated) stream, read on the machine: a cut-short dump has none."""
    reader, label = ('gzip -dc -- "$1"', "pg-plain-gz") if gzip else ('cat -- "$1"', "pg-plain")
    code, out, _err = run_on(machine, f"{reader} | tail -c 4096", timeout, path)
    inspection = Inspection(label)
    inspection.trailer = PG_TRAILER in out
    if code != 0 or not inspection.trailer:
        inspection.defects.append(
            f"has no '-- {PG_TRAILER}' trailer at its end: pg_dump did not finish (truncated dump)"
        )
    return inspection


def looks_like_sql(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return text.startswith(b"--") or b"PostgreSQL database dump" in head[:2048]


FORMAT = BackupFormat(
    name="pg-plain",
    read=read,
    declared={"pg-plain": None, "pg-plain-gz": True},
    text=looks_like_sql,
    extensions=(".sql",),
    restore="postgres",
    verify_remote=verify_remote,
    gz_suffix=True,
)
