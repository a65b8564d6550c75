"""The daily backup probe: find the newest complete backup, read it once (hash + inflate + format), stat again."""

from __future__ import annotations

import time
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from opsverify.backups.checksum import ChecksumResult, find_sidecar, hash_directory_files, read_sidecar
from opsverify.backups.files import BackupFile, Listing, list_backups, settle_newest, stat_backup
from opsverify.backups.integrity import Inspection, inspect_archive_toc, inspect_backup
from opsverify.backups.remote import checksum_remote, inspect_remote, list_remote, settle_remote
from opsverify.backups.s3.access import is_s3_url
from opsverify.connect import ConnectError, connect
from opsverify.kinds.backups.facts import BackupFacts
from opsverify.kinds.backups.s3_probe import probe_s3
from opsverify.kinds.base import ProbeContext
from opsverify.units import format_size

if TYPE_CHECKING:
    from opsverify.kinds.backups.model import BackupCheck


def probe(entry: BackupCheck, ctx: ProbeContext) -> BackupFacts:
    """Find the entry's backups and check the newest; expected I/O problems become `facts.error`."""
    started = time.monotonic()
    if is_s3_url(entry.path):
        facts = probe_s3(entry)
        facts.seconds = time.monotonic() - started
        return facts
    if entry.via is not None and not entry.via.is_local:
        facts = probe_remote(entry, ctx)
        facts.seconds = time.monotonic() - started
        return facts
    facts = find(entry, ctx)
    if facts.newest is not None and facts.error is None:
        check_newest(entry, facts)
    facts.seconds = time.monotonic() - started
    return facts


def probe_remote(entry: BackupCheck, ctx: ProbeContext) -> BackupFacts:
    """The same checks on another machine: listed over the connection, verified by commands run there."""
    assert entry.via is not None
    where = entry.via.describe()
    facts = BackupFacts(PurePosixPath(entry.path), entry.pattern)  # type: ignore[arg-type]
    try:
        with connect(entry.via, ctx.base_dir) as machine:
            try:
                listing = list_remote(machine, entry.path, entry.pattern, entry.ignore)
            except FileNotFoundError:
                facts.error = f"backup folder {entry.path} does not exist on {where}: is `path` right?"
                return facts
            except NotADirectoryError:
                facts.error = f"backup path {entry.path} on {where} is a file, not a folder"
                return facts
            settle_remote(machine, listing, entry.settle)
            _copy_listing(listing, facts)
            facts.checked_at = time.time()
            newest = facts.newest
            if newest is None:
                return facts
            facts.inspection = inspect_remote(machine, newest, entry.format, entry.verify_timeout)
            if entry.checksum != "off":
                facts.checksum = checksum_remote(machine, newest, entry.verify_timeout)
            after = machine.stat(str(newest.path))
            if after is None or (after.size, after.mtime) != (newest.size, newest.mtime):
                facts.changed_during_check = (
                    f"newest backup {newest.name} changed or vanished while it was being checked: it is still "
                    "being written; the writer should write to NAME.tmp and rename when done"
                )
    except ConnectError as exc:
        facts.error = str(exc)
    return facts


def find(entry: BackupCheck, ctx: ProbeContext) -> BackupFacts:
    """List the backups of `entry` (newest first) without reading any of them."""
    directory = ctx.path(entry.path)
    facts = BackupFacts(directory, entry.pattern)
    try:
        listing = list_backups(directory, entry.pattern, entry.ignore)
    except FileNotFoundError:
        facts.error = (
            f"backup folder {directory} does not exist: is the backup volume mounted, and is `path` right?"
        )
        return facts
    except NotADirectoryError:
        facts.error = f"backup path {directory} is a file, not a folder: put the folder in `path` and the name in `pattern`"
        return facts
    except PermissionError:
        facts.error = (
            f"permission denied reading {directory}: run opsverify as a user that can read the backups"
        )
        return facts
    settle_newest(listing, entry.settle)
    _copy_listing(listing, facts)
    facts.checked_at = time.time()
    return facts


def _copy_listing(listing: Listing, facts: BackupFacts) -> None:
    facts.files, facts.in_progress, facts.other_names = (
        listing.complete,
        listing.in_progress,
        listing.other_names,
    )


def check_newest(entry: BackupCheck, facts: BackupFacts) -> None:
    """Read the newest backup once; if it changed meanwhile it is still being written."""
    newest = facts.newest
    assert newest is not None
    hash_file = entry.checksum != "off"
    facts.inspection = inspect_backup(
        newest,
        declared=entry.format,
        items_path=entry.items_path,
        client_bin=entry.client_bin,
        hash_file=hash_file,
    )
    finish_check(entry, facts)


def check_newest_toc(entry: BackupCheck, facts: BackupFacts) -> None:
    """`check_newest` for a custom archive that a drill restores meanwhile: hash and table of contents; the
    restore reads the data blocks (see `inspect_archive_toc`)."""
    newest = facts.newest
    assert newest is not None
    facts.inspection = inspect_archive_toc(
        newest, client_bin=entry.client_bin, hash_file=entry.checksum != "off"
    )
    finish_check(entry, facts)


def finish_check(entry: BackupCheck, facts: BackupFacts) -> None:
    """After the read (`facts.inspection`): the checksum sidecar, and whether the file changed meanwhile."""
    newest, inspection = facts.newest, facts.inspection
    assert newest is not None
    assert inspection is not None
    facts.checksum = verify_checksum(newest, inspection) if entry.checksum != "off" else None
    try:
        after = stat_backup(newest.path)
    except FileNotFoundError:
        facts.changed_during_check = f"newest backup {newest.name} was deleted while it was being checked"
        return
    if (after.size, after.mtime) != (newest.size, newest.mtime):
        facts.changed_during_check = (
            f"newest backup {newest.name} changed while it was being checked ({format_size(newest.size)} -> "
            f"{format_size(after.size)}): it is still being written; the writer should write to NAME.tmp and "
            "rename when done"
        )


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
