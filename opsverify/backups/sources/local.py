"""Backups in a folder of this machine (the default source): listed with os.scandir, read in place."""

from __future__ import annotations

from pathlib import Path
from typing import IO

from opsverify.backups.checksum import ChecksumResult, find_sidecar, hash_directory_files, read_sidecar
from opsverify.backups.files import BackupFile, Listing, list_backups, settle_newest, stat_backup
from opsverify.backups.inspection import Inspection
from opsverify.backups.integrity import inspect_backup
from opsverify.backups.sources.base import BackupEntry, BackupSource, SourceError


class LocalSource(BackupSource):
    """A folder here (`path: /srv/backups`, relative paths from the target file's folder)."""

    name = "local"

    def __init__(self, entry: BackupEntry, base_dir: Path) -> None:
        super().__init__(entry, base_dir)
        path = Path(entry.path).expanduser()
        self.location = self.directory = path if path.is_absolute() else base_dir / path

    def describe(self) -> str:
        return f"folder {self.directory}"

    def list(self, pattern: str, ignore: list[str]) -> Listing:
        directory = self.directory
        try:
            return list_backups(directory, pattern, ignore)
        except FileNotFoundError:
            raise SourceError(
                f"backup folder {directory} does not exist: is the backup volume mounted, and is `path` right?"
            ) from None
        except NotADirectoryError:
            raise SourceError(
                f"backup path {directory} is a file, not a folder: put the folder in `path` and the name in `pattern`"
            ) from None
        except PermissionError:
            raise SourceError(
                f"permission denied reading {directory}: run opsverify as a user that can read the backups"
            ) from None

    def settle(self, listing: Listing, seconds: float) -> None:
        settle_newest(listing, seconds)

    def stat(self, backup: BackupFile) -> BackupFile | None:
        try:
            return stat_backup(backup.path)
        except FileNotFoundError:
            return None

    def open(self, backup: BackupFile) -> IO[bytes]:
        return backup.path.open("rb")

    def fetch(self, backup: BackupFile, workdir: Path) -> Path:
        return backup.path  # already a local, seekable file: no copy

    def inspect(self, backup: BackupFile) -> Inspection:
        entry = self.entry
        return inspect_backup(
            backup,
            declared=entry.format,
            items_path=entry.items_path,
            client_bin=entry.client_bin,
            hash_file=entry.checksum != "off",
        )

    def checksum(self, backup: BackupFile, inspection: Inspection) -> ChecksumResult:
        return verify_checksum(backup, inspection)


def verify_checksum(backup: BackupFile, inspection: Inspection) -> ChecksumResult:
    """Compare the sidecar (if any) with the hash the inspection computed (directories: per file)."""
    sidecar = find_sidecar(backup.path)
    if sidecar is None:
        return ChecksumResult(None)
    result = read_sidecar(sidecar, backup.path)
    if result.error:
        return result
    if backup.is_dir:
        if "" in result.expected:
            result.error = (
                f"{sidecar.name} holds one bare hash, but {backup.name} is a folder: list its files instead "
                f"(`cd {backup.path.parent} && sha256sum {backup.name}/* > {sidecar.name}`)"
            )
            return result
        result.actual = hash_directory_files(backup.path, list(result.expected))
    elif inspection.sha256 is not None:
        result.actual = {"": inspection.sha256}
    return result
