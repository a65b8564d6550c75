"""Backup formats: one module each (detect from the first bytes, read whole, verify remotely, drill target).

`detect_format` names a backup's format; `get_format(name)` is the format's module value (`BackupFormat`);
`backup_formats()` lists them all, built-ins and plugins (entry-point group `opsverify.backup_formats`).
"""

from __future__ import annotations

from opsverify.backups.formats.base import BackupFormat, DrillRestore, ReadOptions
from opsverify.backups.formats.detect import detect_format, detect_head
from opsverify.backups.formats.registry import backup_formats, declared_formats, get_format
from opsverify.backups.inspection import Detected, FormatError
from opsverify.backups.magic import CUSTOM_MAGIC, GZIP_MAGIC, SQLITE_MAGIC, UNSUPPORTED_MAGIC

__all__ = [
    "CUSTOM_MAGIC",
    "GZIP_MAGIC",
    "SQLITE_MAGIC",
    "UNSUPPORTED_MAGIC",
    "BackupFormat",
    "Detected",
    "DrillRestore",
    "FormatError",
    "ReadOptions",
    "backup_formats",
    "declared_formats",
    "detect_format",
    "detect_head",
    "get_format",
]
