"""The daily backup probe: find the newest complete backup, read it once (hash + inflate + format), stat again.

Where the backups are (a folder here, another machine, a bucket) is the entry's backup source
(`opsverify.backups.sources`); how a backup is read is its format's (`opsverify.backups.formats`).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from opsverify.backups.files import Listing
from opsverify.backups.integrity import inspect_archive_toc
from opsverify.backups.sources import BackupSource, SourceError, open_source
from opsverify.backups.sources.local import LocalSource, verify_checksum
from opsverify.kinds.backups.facts import BackupFacts
from opsverify.kinds.base import ProbeContext

if TYPE_CHECKING:
    from opsverify.kinds.backups.model import BackupCheck

__all__ = ["check_newest", "check_newest_toc", "find", "find_in", "finish_check", "probe", "verify_checksum"]


def probe(entry: BackupCheck, ctx: ProbeContext) -> BackupFacts:
    """Find the entry's backups and check the newest; expected I/O problems become `facts.error`."""
    started = time.monotonic()
    try:
        source = open_source(entry, ctx.base_dir)
    except SourceError as exc:
        facts = BackupFacts(ctx.path(entry.path), entry.pattern, error=str(exc))
        return facts
    facts = BackupFacts(source.location, entry.pattern, location=source.place)  # type: ignore[arg-type]
    try:
        with source:
            _list(source, entry, facts)
            if facts.newest is not None:
                _check(source, entry, facts)
    except SourceError as exc:
        facts.error = str(exc)
    facts.seconds = time.monotonic() - started
    return facts


def _list(source: BackupSource, entry: BackupCheck, facts: BackupFacts) -> None:
    listing = source.list(entry.pattern, entry.ignore)
    source.settle(listing, entry.settle)
    _copy_listing(listing, facts)
    facts.checked_at = time.time()


def _check(source: BackupSource, entry: BackupCheck, facts: BackupFacts) -> None:
    """Read the newest backup once, its checksum, and whether it changed meanwhile."""
    newest = facts.newest
    assert newest is not None
    facts.inspection = source.inspect(newest)
    _finish(source, entry, facts)


def _finish(source: BackupSource, entry: BackupCheck, facts: BackupFacts) -> None:
    newest, inspection = facts.newest, facts.inspection
    assert newest is not None
    assert inspection is not None
    facts.checksum = source.checksum(newest, inspection) if entry.checksum != "off" else None
    facts.changed_during_check = source.changed(newest)


def find(entry: BackupCheck, ctx: ProbeContext) -> BackupFacts:
    """List the backups of `entry` in its folder here (newest first) without reading any of them."""
    source = LocalSource(entry, ctx.base_dir)
    facts = BackupFacts(source.directory, entry.pattern)
    try:
        _list(source, entry, facts)
    except SourceError as exc:
        facts.error = str(exc)
    return facts


def find_in(source: BackupSource, entry: BackupCheck) -> BackupFacts:
    """List the backups of `entry` in its (open) source, newest first, without reading any of them;
    `error` says why they could not be listed."""
    facts = BackupFacts(source.location, entry.pattern, location=source.place)  # type: ignore[arg-type]
    try:
        _list(source, entry, facts)
    except SourceError as exc:
        facts.error = str(exc)
    return facts


def _copy_listing(listing: Listing, facts: BackupFacts) -> None:
    facts.files, facts.in_progress, facts.other_names = (
        listing.complete,
        listing.in_progress,
        listing.other_names,
    )


def check_newest(entry: BackupCheck, facts: BackupFacts) -> None:
    """Read the newest backup (here) once; if it changed meanwhile it is still being written."""
    _check(LocalSource(entry, facts.directory), entry, facts)


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
    _finish(LocalSource(entry, facts.directory), entry, facts)
