"""SQLite database files (`sqlite`): copied once (hashed on the way), then PRAGMA integrity_check."""

from __future__ import annotations

import tempfile
from pathlib import Path

from opsverify.backups.files import BackupFile
from opsverify.backups.formats.base import BackupFormat, ReadOptions, run_on
from opsverify.backups.inspection import Detected, Inspection
from opsverify.backups.magic import SQLITE_MAGIC
from opsverify.backups.sqlite_backup import copy_and_check
from opsverify.connect import Connection


def read(backup: BackupFile, detected: Detected, out: Inspection, options: ReadOptions) -> None:
    with tempfile.TemporaryDirectory(prefix="opsverify-sqlite-") as workdir:
        copied = copy_and_check(
            backup.path, gzip=detected.gzip, workdir=Path(workdir), hash_file=options.hash_file
        )
    out.bytes_read, out.sha256 = copied.stream.bytes_read, copied.stream.sha256
    out.inflated_bytes = copied.stream.inflated_bytes
    out.tables = copied.tables
    out.defects += copied.defects()


def verify_remote(machine: Connection, path: str, _gzip: bool, timeout: float) -> Inspection:
    code, out, err = run_on(machine, 'sqlite3 -readonly "$1" "PRAGMA integrity_check;"', timeout, path)
    inspection = Inspection("sqlite", Detected("sqlite"))
    if code == 127:
        inspection.defects.append(
            f"cannot verify: sqlite3 is not installed on {machine.where} (apt install sqlite3)"
        )
    elif code != 0 or out != "ok":
        inspection.defects.append(f"fails PRAGMA integrity_check on {machine.where}: {(out or err)[:200]}")
    return inspection


FORMAT = BackupFormat(
    name="sqlite",
    read=read,
    declared={"sqlite": None},
    magic=lambda head: head.startswith(SQLITE_MAGIC),
    extensions=(".sqlite", ".sqlite3", ".db"),
    restore="sqlite",
    verify_remote=verify_remote,
)
