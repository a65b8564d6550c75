"""Backups on another machine (`via:`): listed over the connection, verified by commands run there.

Nothing is copied: `gzip -t` (the whole stream's CRC), `tar -t` (members), `sqlite3 … PRAGMA
integrity_check`, the pg_dump trailer from the end of the inflated stream, and `sha256sum` against the
sidecar all run on the machine that holds the backup; only their short output crosses the connection.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
import time
from collections.abc import Sequence
from pathlib import PurePosixPath

from opsverify.backups.checksum import ChecksumResult
from opsverify.backups.files import SIDECAR_SUFFIXES, BackupFile, Listing, Skipped
from opsverify.backups.formats import GZIP_MAGIC, SQLITE_MAGIC, UNSUPPORTED_MAGIC, Detected
from opsverify.backups.integrity import Inspection
from opsverify.connect import ConnectError, Connection
from opsverify.units import plural

_HASH = re.compile(r"^\\?([0-9a-fA-F]{64})\b")
PG_TRAILER = "PostgreSQL database dump complete"


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


def _run(machine: Connection, script: str, timeout: float, *args: str) -> tuple[int | None, str, str]:
    result = machine.run(["sh", "-c", script, "sh", *args], timeout)
    if result.timed_out:
        raise ConnectError(f"verifying on {machine.where} did not finish within {timeout:g}s")
    return result.exit_code, result.text().strip(), result.text("stderr").strip()


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
        code, _out, _err = _run(machine, 'test -f "$1/toc.dat"', timeout, path)
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
    name = posixpath.basename(path).lower()
    for magic, kind in UNSUPPORTED_MAGIC.items():
        if head.startswith(magic):
            return Inspection(
                kind, defects=[f"is {kind}-compressed, which opsverify does not read; use gzip"]
            )
    if head.startswith(GZIP_MAGIC):
        code, _out, err = _run(machine, 'gzip -t -- "$1"', timeout, path)
        if code == 127:
            return Inspection("gzip", defects=[f"cannot verify: gzip is not installed on {machine.where}"])
        if code != 0:
            detail = err.splitlines()[-1] if err else f"exit {code}"
            return Inspection(
                "gzip", defects=[f"is a damaged gzip stream (`gzip -t` on {machine.where}: {detail})"]
            )
        if ".tar" in name or name.endswith(".tgz") or declared == "tar":
            return _tar(machine, path, timeout, "z")
        if name.endswith(".sql.gz") or declared in ("pg-plain", "pg-plain-gz"):
            return _pg_plain(machine, path, timeout, 'gzip -dc -- "$1"', "pg-plain-gz")
        return Inspection("gzip")
    if head.startswith(SQLITE_MAGIC):
        return _sqlite(machine, path, timeout)
    if head.startswith(b"PGDMP"):
        return Inspection("pg-custom")
    if len(head) >= 262 and head[257:262] == b"ustar":
        return _tar(machine, path, timeout, "")
    if name.endswith(".sql") or declared == "pg-plain":
        return _pg_plain(machine, path, timeout, 'cat -- "$1"', "pg-plain")
    return Inspection(declared if declared != "auto" else "unknown")


def _tar(machine: Connection, path: str, timeout: float, flag: str) -> Inspection:
    code, out, err = _run(machine, f'tar -t{flag}vf "$1"', timeout, path)
    inspection = Inspection("tar (gzip)" if flag else "tar", Detected("tar", gzip=bool(flag)))
    if code != 0:
        inspection.defects.append(
            f"is not a readable tar archive (`tar -t` on {machine.where}: {err[-200:]})"
        )
        return inspection
    lines = [line for line in out.splitlines() if line.strip()]
    inspection.members = len(lines)
    inspection.files = sum(1 for line in lines if line.startswith("-"))
    return inspection


def _pg_plain(machine: Connection, path: str, timeout: float, reader: str, label: str) -> Inspection:
    code, out, _err = _run(machine, f"{reader} | tail -c 4096", timeout, path)
    inspection = Inspection(label)
    inspection.trailer = PG_TRAILER in out
    if code != 0 or not inspection.trailer:
        inspection.defects.append(
            f"has no '-- {PG_TRAILER}' trailer at its end: pg_dump did not finish (truncated dump)"
        )
    return inspection


def _sqlite(machine: Connection, path: str, timeout: float) -> Inspection:
    code, out, err = _run(machine, 'sqlite3 -readonly "$1" "PRAGMA integrity_check;"', timeout, path)
    inspection = Inspection("sqlite", Detected("sqlite"))
    if code == 127:
        inspection.defects.append(
            f"cannot verify: sqlite3 is not installed on {machine.where} (apt install sqlite3)"
        )
    elif code != 0 or out != "ok":
        inspection.defects.append(f"fails PRAGMA integrity_check on {machine.where}: {(out or err)[:200]}")
    return inspection


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
    code, out, err = _run(machine, 'sha256sum -- "$1"', timeout, str(backup.path))
    if code != 0:
        result.error = f"sha256sum failed on {machine.where}: {err[:200]}"
        return result
    result.actual = {"": out.split()[0].lower()}
    return result
