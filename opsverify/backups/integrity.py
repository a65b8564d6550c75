"""Integrity of one backup in one read: the format module named by detection reads it whole."""

from __future__ import annotations

import time

from opsverify.backups.files import BackupFile
from opsverify.backups.formats import ReadOptions, detect_format, get_format
from opsverify.backups.formats.pg_custom import read_toc
from opsverify.backups.formats.pg_plain import judge_plain
from opsverify.backups.inspection import SQL_FORMATS, Detected, FormatError, Inspection
from opsverify.backups.pgtools import ToolMissing

__all__ = ["SQL_FORMATS", "Detected", "Inspection", "inspect_archive_toc", "inspect_backup", "judge_plain"]


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
    options = ReadOptions(items_path=items_path, client_bin=client_bin, hash_file=hash_file)
    inspection = _inspect(backup, declared, options)
    inspection.seconds = time.monotonic() - started
    return inspection


def inspect_archive_toc(
    backup: BackupFile, *, client_bin: str | None = None, hash_file: bool = True
) -> Inspection:
    """A custom archive that a drill restores beside this check: its hash and table of contents only.

    The data blocks are read and decompressed by the restoring pg_restore; the drill adds its read errors
    to `defects` (`archive_read_error`) and sets `trailer` once the restore read the archive to its end."""
    started = time.monotonic()
    options = ReadOptions(client_bin=client_bin, hash_file=hash_file)
    inspection = _inspect(backup, "pg-custom", options, toc_only=True)
    inspection.seconds = time.monotonic() - started
    return inspection


def _inspect(
    backup: BackupFile, declared: str, options: ReadOptions, *, toc_only: bool = False
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
    fmt = get_format(detected.format)
    assert fmt is not None, f"detection named {detected.format}, which the registry does not hold"
    try:
        if toc_only and detected.format == "pg-custom":
            read_toc(backup, inspection, options)
        else:
            fmt.read(backup, detected, inspection, options)
    except ToolMissing as exc:
        inspection.defects.append(str(exc))
    except OSError as exc:
        inspection.defects.append(f"cannot read: {exc.strerror or exc}")
    return inspection
