"""Backup sources: where an entry's backups live (local folder, another machine over `via:`, and those that
installed packages add through the entry-point group `opsverify.backup_sources`). See `sources.base`."""

from __future__ import annotations

from opsverify.backups.sources.base import BackupEntry, BackupSource, SourceError
from opsverify.backups.sources.registry import backup_sources, open_source, source_for

__all__ = ["BackupEntry", "BackupSource", "SourceError", "backup_sources", "open_source", "source_for"]
