"""A drill of a backup that is not a local file (a bucket's object).

A plain PostgreSQL dump or a mysqldump (.sql or .sql.gz) streams from the GET straight into psql or the
mariadb client: the drill's `stream` step lists the prefix and reads the object's head (format, server
version for the sandbox), the restore step reads the body once (sha256 and the object's checksum on the
way; the client is stopped before the end of its input unless they agree, so psql commits nothing). Any
other format is downloaded first, as the drill's own `download` step, with its checksum sidecar; the drill
then runs on that copy exactly as on a file. Either step is timed, in the evidence and in the RTO."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from opsverify.backups.files import BackupFile
from opsverify.backups.formats import Detected, FormatError, detect_head
from opsverify.backups.inspection import Inspection
from opsverify.backups.mysql_dump import head_server_version
from opsverify.backups.plain_sql import head_dumped_from
from opsverify.backups.sources import BackupSource, SourceError, open_source
from opsverify.backups.sources.local import LocalSource
from opsverify.backups.sources.s3 import S3Source
from opsverify.backups.sources.s3_listing import S3Object
from opsverify.drills.sandbox import DRILL_PREFIX
from opsverify.kinds.backups.facts import BackupFacts
from opsverify.kinds.restore.facts import DrillFacts, DrillStep
from opsverify.units import format_size

if TYPE_CHECKING:
    from opsverify.kinds.backups.model import BackupCheck

Cleanup = Callable[[str, Callable[[], str | None]], None]
STREAMED_FORMATS = frozenset({"pg-plain", "mysql-plain"})
"""Formats a drill restores from the object's stream (psql and the mariadb client read their input in
order); the others need a seekable file (pg-custom with --jobs, pg-directory, SQLite) or are extracted
(tar), and are downloaded first."""


@dataclass
class Streamed:
    """A bucket's newest object that streams into the restore: `facts.backup` lists it; `source` stays open."""

    source: S3Source
    detected: Detected
    dumped_from: str | None


def local_source(
    entry: BackupCheck, facts: DrillFacts, base_dir: Path, cleanup: Cleanup
) -> BackupCheck | Streamed | None:
    """`entry` itself for a folder here; a `Streamed` object of a bucket for a plain PostgreSQL dump; else
    the entry of a temporary folder holding a copy of the newest backup (None when it could not be had:
    `facts` says why)."""
    try:
        source = open_source(entry, base_dir)
    except SourceError:
        return entry  # the drill's own find step reports it
    if isinstance(source, LocalSource) or source.place is None:
        return entry
    backup = facts.backup = BackupFacts(source.location, entry.pattern, location=source.place)  # type: ignore[arg-type]
    with facts.step("download") as step, source:
        newest = list_into(source, entry, backup, step)
        if newest is None:
            return None
        if isinstance(source, S3Source) and isinstance(newest, S3Object):
            facts.backup_url = f"s3://{source.bucket.bucket}/{newest.key}"
        streamed = _streamed(source, newest, entry.format)
        if streamed is not None:
            step.name = "stream"
            step.detail = (
                f"{newest.name}, {format_size(newest.size)} from {source.place}, streamed into the restore"
            )
            cleanup("close the bucket's client", lambda: _close(streamed.source))
            return streamed
        folder = drill_workdir(entry, base_dir, "download_")
        cleanup("remove the downloaded backup", lambda: _remove(folder))
        try:
            source.fetch(newest, folder)
        except SourceError as exc:
            facts.fail(str(exc))
            return None
        step.detail = f"{newest.name}, {format_size(newest.size)} from {source.place}"
    facts.backup = None
    return entry.model_copy(update={"path": str(folder), "s3": None, "restic": None, "borg": None})


def list_into(
    source: BackupSource, entry: BackupCheck, backup: BackupFacts, step: DrillStep
) -> BackupFile | None:
    """List `source` into `backup`; its newest backup, or None with the step failed (`backup` says why)."""
    try:
        listing = source.list(entry.pattern, entry.ignore)
    except SourceError as exc:
        backup.error, step.ok = str(exc), False
        return None
    backup.files, backup.in_progress, backup.other_names = (
        listing.complete,
        listing.in_progress,
        listing.other_names,
    )
    if backup.newest is None:
        step.ok = False
    return backup.newest


def drill_workdir(entry: BackupCheck, base_dir: Path, kind: str) -> Path:
    """A new temporary folder under `restore.tmp_dir` (relative to the target file's folder; default TMPDIR).
    OSError naming the setting when that is not a folder (the drill reports it as its failure)."""
    spec = entry.restore
    parent = None if spec is None or spec.tmp_dir is None else base_dir / Path(spec.tmp_dir).expanduser()
    if parent is not None and not parent.is_dir():
        raise OSError(f"restore.tmp_dir {parent} is not a folder: create it, or point `tmp_dir` at one")
    return Path(tempfile.mkdtemp(prefix=f"{DRILL_PREFIX}{kind}", dir=parent))


def finish_streamed_check(
    streamed: Streamed, entry: BackupCheck, backup: BackupFacts, inspection: Inspection
) -> None:
    """After the streamed read (`inspection` holds its sha256): the object's checksum, and whether the read
    was cut short (`changed_during_check` says so: the restore stops uncommitted)."""
    source, newest = streamed.source, backup.newest
    assert newest is not None
    source.finish_stream(inspection.sha256)
    backup.checksum = source.checksum(newest, inspection) if entry.checksum != "off" else None
    backup.changed_during_check = source.changed(newest)


def _streamed(source: BackupSource, newest: BackupFile, declared: str) -> Streamed | None:
    """The object as a `Streamed` backup when its format restores from a stream (it is read from its head)."""
    if not isinstance(source, S3Source) or not isinstance(newest, S3Object) or newest.archived:
        return None
    if newest.is_dir:
        return None  # a pg_dump directory: downloaded
    if newest.size == 0:
        return None  # the download path's integrity step says it is empty
    try:
        head = source.head(newest)
        detected = detect_head(head, newest.name, declared)
    except (SourceError, FormatError):
        return None  # the download path says why
    if detected.format not in STREAMED_FORMATS:
        return None
    if detected.format == "mysql-plain":
        return Streamed(source, detected, head_server_version(head, gzip=detected.gzip))
    return Streamed(source, detected, head_dumped_from(head, gzip=detected.gzip))


def _close(source: BackupSource) -> str | None:
    source.close()
    return None


def _remove(folder: Path) -> str | None:
    shutil.rmtree(folder, ignore_errors=True)
    return f"could not remove {folder}" if folder.exists() else None
