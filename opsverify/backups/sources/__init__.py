"""Backup sources: where an entry's backups live (local folder, another machine over `via:`, and those that
installed packages add through the entry-point group `opsverify.backup_sources`). See `sources.base`.

The names below load on first use, so a config model importing one light submodule (`s3_access`) does not
import every source and format reader while a target file is read.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opsverify.backups.sources.base import BackupEntry, BackupSource, SourceError
    from opsverify.backups.sources.registry import backup_sources, open_source, source_for

__all__ = ["BackupEntry", "BackupSource", "SourceError", "backup_sources", "open_source", "source_for"]
_HOMES = {
    "BackupEntry": "base",
    "BackupSource": "base",
    "SourceError": "base",
    "backup_sources": "registry",
    "open_source": "registry",
    "source_for": "registry",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
