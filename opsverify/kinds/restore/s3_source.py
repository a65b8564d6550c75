"""A drill of a backup in a bucket: the newest object is downloaded first, as the drill's own `download`
step (timed, in the evidence, inside the RTO); the drill then runs on that copy exactly as on a file."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from opsverify.backups.s3.access import is_s3_url
from opsverify.backups.s3.errors import S3Error, archived_message
from opsverify.backups.s3.listing import S3Object
from opsverify.backups.s3.reading import ObjectChanged, download_object
from opsverify.drills.sandbox import DRILL_PREFIX
from opsverify.kinds.backups.s3_probe import find_s3
from opsverify.kinds.restore.facts import DrillFacts
from opsverify.units import format_size

if TYPE_CHECKING:
    from opsverify.kinds.backups.model import BackupCheck

Cleanup = Callable[[str, Callable[[], str | None]], None]


def local_source(entry: BackupCheck, facts: DrillFacts, cleanup: Cleanup) -> BackupCheck | None:
    """`entry` itself for a folder; for a bucket, the entry of a temporary folder holding the newest object
    (None when it could not be had: `facts` says why)."""
    if not is_s3_url(entry.path):
        return entry
    folder = Path(tempfile.mkdtemp(prefix=f"{DRILL_PREFIX}s3_"))
    cleanup("remove the downloaded backup", lambda: _remove(folder))
    with facts.step("download") as step:
        found, listing, client = find_s3(entry)
        newest = found.newest
        if found.error or listing is None or client is None or not isinstance(newest, S3Object):
            facts.backup = found
            step.ok = False
            return None
        location, access = entry.location_and_access()
        where = f"s3://{location.bucket}/{newest.key}"
        if newest.archived:
            facts.fail(
                archived_message(where, newest.storage_class).replace(
                    "or set allow_archived: true to check only the listing", "a drill needs a readable copy"
                )
            )
            return None
        try:
            copy = download_object(
                client, access, location, newest, folder, listing.sidecars.get(f"{newest.name}.sha256")
            )
        except (S3Error, ObjectChanged) as exc:
            facts.fail(str(exc))
            return None
        mismatch = copy.checksum.problems(required=False)
        if mismatch:
            facts.fail(f"{newest.name}: {mismatch[0]}")
            return None
        step.detail = f"{newest.name}, {format_size(newest.size)} from {access.describe(location)}"
    return entry.model_copy(update={"path": str(folder), "s3": None})


def _remove(folder: Path) -> str | None:
    shutil.rmtree(folder, ignore_errors=True)
    return f"could not remove {folder}" if folder.exists() else None
