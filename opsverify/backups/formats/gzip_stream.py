"""A gzip stream of unknown contents (`gzip`): the whole stream inflated, its CRC and length checked."""

from __future__ import annotations

from opsverify.backups.files import BackupFile
from opsverify.backups.formats.base import BackupFormat, ReadOptions
from opsverify.backups.inspection import Detected, Inspection
from opsverify.backups.stream import read_once


def read(backup: BackupFile, _detected: Detected, out: Inspection, options: ReadOptions) -> None:
    stream = read_once(backup.path, gzip=True, sinks=[], hash_file=options.hash_file)
    out.bytes_read, out.inflated_bytes, out.sha256 = stream.bytes_read, stream.inflated_bytes, stream.sha256
    if stream.gzip_error:
        out.defects.append(stream.gzip_error)
    elif stream.inflated_bytes == 0:
        out.defects.append("gzip stream inflates to 0 bytes (a gzip of an empty stream): not a backup")


FORMAT = BackupFormat(name="gzip", read=read, declared={"gzip": True})
