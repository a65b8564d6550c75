"""pg_dump's custom archive (`pg-custom`, -Fc): read whole by pg_restore into SQL that is scanned on the way."""

from __future__ import annotations

from opsverify.backups.files import BackupFile
from opsverify.backups.formats.base import BackupFormat, ReadOptions
from opsverify.backups.formats.pg_plain import copy_scan
from opsverify.backups.inspection import Detected, Inspection
from opsverify.backups.magic import CUSTOM_MAGIC
from opsverify.backups.pg_archive import list_archive, read_archive


def read(backup: BackupFile, detected: Detected, out: Inspection, options: ReadOptions) -> None:
    """Every data block through pg_restore (a custom archive or a -Fd folder); its SQL is scanned."""
    directory = detected.format == "pg-directory"
    archive = read_archive(
        backup.path, directory=directory, client_bin=options.client_bin, hash_file=options.hash_file
    )
    out.bytes_read, out.sha256 = archive.stream.bytes_read, archive.stream.sha256
    out.inflated_bytes = archive.sql_bytes
    copy_scan(archive.scan, out)
    out.defects += archive.defects()


def read_toc(backup: BackupFile, out: Inspection, options: ReadOptions) -> None:
    """The hash and table of contents only: the drill's pg_restore reads the data blocks beside it."""
    listed = list_archive(backup.path, client_bin=options.client_bin, hash_file=options.hash_file)
    out.bytes_read, out.sha256 = listed.stream.bytes_read, listed.stream.sha256
    out.header = listed.returncode == 0
    out.create_tables, out.copies, out.dumped_from = listed.tables, listed.table_data, listed.dumped_from
    out.defects += listed.defects()


FORMAT = BackupFormat(
    name="pg-custom",
    read=read,
    declared={"pg-custom": False},
    magic=lambda head: head.startswith(CUSTOM_MAGIC),
    extensions=(".dump", ".pgdump", ".backup", ".custom"),
    restore="postgres",
)
