"""Finding backups: `path` + `pattern`, newest by modification time, files still being written set aside."""

from __future__ import annotations

import fnmatch
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from opsverify.units import plural

SIDECAR_SUFFIXES = (".sha256", ".sha256sum", ".md5")


@dataclass(frozen=True)
class BackupFile:
    """One backup: a file, or a directory (pg_dump -Fd) whose size is the sum of its files."""

    path: Path
    size: int
    mtime: float
    is_dir: bool = False

    @property
    def name(self) -> str:
        return self.path.name

    def age(self, now: float | None = None) -> float:
        return (time.time() if now is None else now) - self.mtime


@dataclass
class Skipped:
    """A matching file that is not taken for a backup, and why."""

    name: str
    reason: str


@dataclass
class Listing:
    """The backups in a folder: complete ones newest first, and those set aside as still being written."""

    directory: Path
    pattern: str
    complete: list[BackupFile] = field(default_factory=list)
    in_progress: list[Skipped] = field(default_factory=list)
    other_names: list[str] = field(default_factory=list)


def stat_backup(path: Path) -> BackupFile:
    """Size and modification time of a backup file or directory (newest mtime of its files)."""
    info = path.stat()
    if not path.is_dir():
        return BackupFile(path, info.st_size, info.st_mtime)
    size, mtime = 0, info.st_mtime
    for root, _dirs, files in os.walk(path):
        for name in files:
            child = (Path(root) / name).stat()
            size += child.st_size
            mtime = max(mtime, child.st_mtime)
    return BackupFile(path, size, mtime, is_dir=True)


def list_backups(directory: Path, pattern: str, ignore: Sequence[str]) -> Listing:
    """Every entry of `directory` matching `pattern`, newest first; in-progress names set aside.

    A name matching `ignore` (e.g. `*.tmp`) is in progress when it also matches `pattern` or does once
    the suffix is removed (`backup_1.sql.gz.tmp` for `backup_*.sql.gz`). Raises OSError when the folder
    cannot be listed.
    """
    listing = Listing(directory, pattern)
    with os.scandir(directory) as entries:
        names = sorted(entry.name for entry in entries)
    for name in names:
        if name.endswith(SIDECAR_SUFFIXES):
            continue
        ignored = next((glob for glob in ignore if fnmatch.fnmatch(name, glob)), None)
        if ignored is not None:
            if fnmatch.fnmatch(name, pattern) or fnmatch.fnmatch(_strip_suffix(name), pattern):
                listing.in_progress.append(Skipped(name, f"still being written ({ignored})"))
            continue
        if not fnmatch.fnmatch(name, pattern):
            listing.other_names.append(name)
            continue
        try:
            listing.complete.append(stat_backup(directory / name))
        except FileNotFoundError:
            continue  # deleted (rotated) while listing
    listing.complete.sort(key=lambda f: (f.mtime, f.name), reverse=True)
    return listing


def _strip_suffix(name: str) -> str:
    return name.rsplit(".", 1)[0] if "." in name else name


def settle_newest(listing: Listing, settle: float, sleep: float | None = None) -> None:
    """Set aside a newest backup whose size or mtime changes within `settle` seconds (still being written).

    Only a file modified less than `settle` seconds ago is watched, so a quiet folder costs no waiting.
    """
    while listing.complete:
        newest = listing.complete[0]
        remaining = settle - newest.age()
        if settle <= 0 or remaining <= 0:
            return
        time.sleep(min(remaining, settle) if sleep is None else sleep)
        try:
            again = stat_backup(newest.path)
        except FileNotFoundError:
            listing.complete.pop(0)
            continue
        if (again.size, again.mtime) == (newest.size, newest.mtime):
            return
        listing.complete.pop(0)
        listing.in_progress.append(
            Skipped(
                newest.name,
                f"still being written (size changed {newest.size} -> {plural(again.size, 'byte')})",
            )
        )
