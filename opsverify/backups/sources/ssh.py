"""Backups on another machine (`via: ssh://…`, also `docker://…`): listed over the connection, verified by
commands run there.

Nothing is copied: each format's `verify_remote` runs there (`gzip -t`, `tar -t`, `sqlite3 … PRAGMA
integrity_check`, the pg_dump trailer from the end of the inflated stream), and `sha256sum` is compared with
the sidecar there; only their short output crosses the connection.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import IO

from opsverify.backups.checksum import ChecksumResult
from opsverify.backups.files import SIDECAR_SUFFIXES, BackupFile, Listing, Skipped
from opsverify.backups.formats import get_format
from opsverify.backups.formats.base import run_on
from opsverify.backups.inspection import Detected, Inspection
from opsverify.backups.magic import GZIP_MAGIC, SQLITE_MAGIC, UNSUPPORTED_MAGIC, is_tar
from opsverify.backups.sources.base import BackupEntry, BackupSource, SourceError
from opsverify.connect import ConnectError, Connection, open_connection
from opsverify.units import plural

_HASH = re.compile(r"^\\?([0-9a-fA-F]{64})\b")


@contextmanager
def _connect_errors() -> Iterator[None]:
    try:
        yield
    except ConnectError as exc:
        raise SourceError(str(exc)) from None


class SshSource(BackupSource):
    """A folder on the machine an entry's `via:` names (not `local`)."""

    name = "ssh"

    def __init__(self, entry: BackupEntry, base_dir: Path) -> None:
        super().__init__(entry, base_dir)
        self._machine: Connection | None = None

    @classmethod
    def claims(cls, entry: BackupEntry) -> bool:
        return entry.via is not None and not entry.via.is_local

    def __enter__(self) -> SshSource:
        assert self.entry.via is not None
        with _connect_errors():
            self._machine = open_connection(self.entry.via, self.base_dir)
        return self

    def close(self) -> None:
        if self._machine is not None:
            self._machine.close()
            self._machine = None

    @property
    def machine(self) -> Connection:
        assert self._machine is not None, "use the source as a context manager (with open_source(...))"
        return self._machine

    @property
    def where(self) -> str:
        assert self.entry.via is not None
        return self.entry.via.describe()

    def describe(self) -> str:
        return f"folder {self.entry.path} on {self.where}"

    def list(self, pattern: str, ignore: list[str]) -> Listing:
        path = self.entry.path
        with _connect_errors():
            try:
                return list_remote(self.machine, path, pattern, ignore)
            except FileNotFoundError:
                raise SourceError(
                    f"backup folder {path} does not exist on {self.where}: is `path` right?"
                ) from None
            except NotADirectoryError:
                raise SourceError(f"backup path {path} on {self.where} is a file, not a folder") from None

    def settle(self, listing: Listing, seconds: float) -> None:
        with _connect_errors():
            settle_remote(self.machine, listing, seconds)

    def stat(self, backup: BackupFile) -> BackupFile | None:
        with _connect_errors():
            found = self.machine.stat(str(backup.path))
        if found is None:
            return None
        return BackupFile(PurePosixPath(found.path), found.size, found.mtime, found.is_dir)  # type: ignore[arg-type]

    def open(self, backup: BackupFile) -> IO[bytes]:
        with _connect_errors():
            return self.machine.open(str(backup.path))

    def inspect(self, backup: BackupFile) -> Inspection:
        with _connect_errors():
            return inspect_remote(self.machine, backup, self.entry.format, self.entry.verify_timeout)

    def checksum(self, backup: BackupFile, inspection: Inspection) -> ChecksumResult:
        with _connect_errors():
            return checksum_remote(self.machine, backup, self.entry.verify_timeout)

    def changed(self, backup: BackupFile) -> str | None:
        with _connect_errors():
            after = self.machine.stat(str(backup.path))
        if after is None or (after.size, after.mtime) != (backup.size, backup.mtime):
            return (
                f"newest backup {backup.name} changed or vanished while it was being checked: it is still "
                "being written; the writer should write to NAME.tmp and rename when done"
            )
        return None


def list_remote(machine: Connection, directory: str, pattern: str, ignore: Sequence[str]) -> Listing:
    """As `files.list_backups`, over the connection. Raises FileNotFoundError when the folder is missing."""
    listing = Listing(PurePosixPath(directory), pattern)  # type: ignore[arg-type]
    folder = machine.stat(directory)
    if folder is None:
        raise FileNotFoundError(directory)
    if not folder.is_dir:
        raise NotADirectoryError(directory)
    for entry in machine.listdir(directory):
        name = entry.name
        if name.endswith(SIDECAR_SUFFIXES):
            continue
        ignored = next((glob for glob in ignore if fnmatch.fnmatch(name, glob)), None)
        if ignored is not None:
            base = name.rsplit(".", 1)[0] if "." in name else name
            if fnmatch.fnmatch(name, pattern) or fnmatch.fnmatch(base, pattern):
                listing.in_progress.append(Skipped(name, f"still being written ({ignored})"))
            continue
        if not fnmatch.fnmatch(name, pattern):
            listing.other_names.append(name)
            continue
        listing.complete.append(
            BackupFile(PurePosixPath(entry.path), entry.size, entry.mtime, entry.is_dir)  # type: ignore[arg-type]
        )
    listing.complete.sort(key=lambda f: (f.mtime, f.name), reverse=True)
    return listing


def settle_remote(machine: Connection, listing: Listing, settle: float) -> None:
    """As `files.settle_newest`: a newest backup that changes within `settle` seconds is still being written."""
    while listing.complete and settle > 0:
        newest = listing.complete[0]
        remaining = settle - newest.age()
        if remaining <= 0:
            return
        time.sleep(min(remaining, settle))
        again = machine.stat(str(newest.path))
        if again is not None and (again.size, again.mtime) == (newest.size, newest.mtime):
            return
        listing.complete.pop(0)
        if again is not None:
            reason = f"still being written (size changed {newest.size} -> {plural(again.size, 'byte')})"
            listing.in_progress.append(Skipped(newest.name, reason))


def inspect_remote(machine: Connection, backup: BackupFile, declared: str, timeout: float) -> Inspection:
    """Format from the first bytes (streamed), then the format's own check run on the machine."""
    started = time.monotonic()
    path = str(backup.path)
    if backup.size == 0:
        return Inspection(
            declared if declared != "auto" else "unknown",
            defects=[
                "is empty (0 bytes): the backup job wrote nothing; check its log (disk full? credentials?)"
            ],
        )
    if backup.is_dir:
        inspection = Inspection("pg-directory")
        code, _out, _err = run_on(machine, 'test -f "$1/toc.dat"', timeout, path)
        if code != 0:
            inspection.defects.append(
                f"has no toc.dat: not a complete pg_dump -Fd directory on {machine.where}"
            )
        inspection.seconds = time.monotonic() - started
        return inspection
    with machine.open(path) as stream:
        head = stream.read(512)
    inspection = _inspect_head(machine, path, head, declared, timeout)
    inspection.bytes_read = backup.size
    inspection.seconds = time.monotonic() - started
    return inspection


def _inspect_head(machine: Connection, path: str, head: bytes, declared: str, timeout: float) -> Inspection:
    """Name the format from 512 bytes and the name, then ask the format to verify it on the machine."""
    name = posixpath.basename(path).lower()
    for magic, kind in UNSUPPORTED_MAGIC.items():
        if head.startswith(magic):
            return Inspection(
                kind, defects=[f"is {kind}-compressed, which opsverify does not read; use gzip"]
            )
    if head.startswith(GZIP_MAGIC):
        code, _out, err = run_on(machine, 'gzip -t -- "$1"', timeout, path)
        if code == 127:
            return Inspection("gzip", defects=[f"cannot verify: gzip is not installed on {machine.where}"])
        if code != 0:
            detail = err.splitlines()[-1] if err else f"exit {code}"
            return Inspection(
                "gzip", defects=[f"is a damaged gzip stream (`gzip -t` on {machine.where}: {detail})"]
            )
        if ".tar" in name or name.endswith(".tgz") or declared == "tar":
            return _verify(machine, "tar", path, True, timeout)
        if name.endswith(".sql.gz") or declared in ("pg-plain", "pg-plain-gz"):
            return _verify(machine, "pg-plain", path, True, timeout)
        return Inspection("gzip")
    if head.startswith(SQLITE_MAGIC):
        return _verify(machine, "sqlite", path, False, timeout)
    if head.startswith(b"PGDMP"):
        return _verify(machine, "pg-custom", path, False, timeout)
    if is_tar(head):
        return _verify(machine, "tar", path, False, timeout)
    if name.endswith(".sql") or declared == "pg-plain":
        return _verify(machine, "pg-plain", path, False, timeout)
    return Inspection(declared if declared != "auto" else "unknown")


def _verify(machine: Connection, format_name: str, path: str, gzip: bool, timeout: float) -> Inspection:
    """The format's own remote check; a format without one is only named (its label, nothing verified)."""
    fmt = get_format(format_name)
    if fmt is None or fmt.verify_remote is None:
        return Inspection(Detected(format_name, gzip).label)
    return fmt.verify_remote(machine, path, gzip, timeout)


def checksum_remote(machine: Connection, backup: BackupFile, timeout: float) -> ChecksumResult:
    """Compare the `.sha256` sidecar with `sha256sum` run on the machine (None sidecar when there is none)."""
    sidecar_path = f"{backup.path}.sha256"
    if machine.stat(sidecar_path) is None:
        return ChecksumResult(None)
    result = ChecksumResult(PurePosixPath(sidecar_path))  # type: ignore[arg-type]
    with machine.open(sidecar_path) as stream:
        text = stream.read(65536).decode("utf-8", errors="replace")
    match = next((m for m in map(_HASH.match, text.strip().splitlines()) if m), None)
    if match is None:
        result.error = (
            f"{posixpath.basename(sidecar_path)}: expected a sha256 hash (64 hex digits), got {text[:80]!r}"
        )
        return result
    result.expected = {"": match.group(1).lower()}
    if backup.is_dir:
        result.error = "checksums of pg_dump -Fd folders are not verified via a connection"
        return result
    code, out, err = run_on(machine, 'sha256sum -- "$1"', timeout, str(backup.path))
    if code != 0:
        result.error = f"sha256sum failed on {machine.where}: {err[:200]}"
        return result
    result.actual = {"": out.split()[0].lower()}
    return result
