"""A drill of a backup that is not a local file (a bucket's object): the newest one is downloaded first, as
the drill's own `download` step (timed, in the evidence, inside the RTO), with its checksum sidecar; the
drill then runs on that copy exactly as on a file."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from opsverify.backups.sources import SourceError, open_source
from opsverify.backups.sources.local import LocalSource
from opsverify.drills.sandbox import DRILL_PREFIX
from opsverify.kinds.backups.facts import BackupFacts
from opsverify.kinds.restore.facts import DrillFacts
from opsverify.units import format_size

if TYPE_CHECKING:
    from opsverify.kinds.backups.model import BackupCheck

Cleanup = Callable[[str, Callable[[], str | None]], None]


def local_source(
    entry: BackupCheck, facts: DrillFacts, base_dir: Path, cleanup: Cleanup
) -> BackupCheck | None:
    """`entry` itself for a folder here; else the entry of a temporary folder holding a copy of the newest
    backup (None when it could not be had: `facts` says why)."""
    try:
        source = open_source(entry, base_dir)
    except SourceError:
        return entry  # the drill's own find step reports it
    if isinstance(source, LocalSource) or source.place is None:
        return entry
    folder = Path(tempfile.mkdtemp(prefix=f"{DRILL_PREFIX}download_"))
    cleanup("remove the downloaded backup", lambda: _remove(folder))
    backup = facts.backup = BackupFacts(source.location, entry.pattern, location=source.place)  # type: ignore[arg-type]
    with facts.step("download") as step, source:
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
        newest = backup.newest
        if newest is None:
            step.ok = False
            return None
        try:
            source.fetch(newest, folder)
        except SourceError as exc:
            facts.fail(str(exc))
            return None
        step.detail = f"{newest.name}, {format_size(newest.size)} from {source.place}"
    facts.backup = None
    return entry.model_copy(update={"path": str(folder), "s3": None, "restic": None, "borg": None})


def _remove(folder: Path) -> str | None:
    shutil.rmtree(folder, ignore_errors=True)
    return f"could not remove {folder}" if folder.exists() else None
