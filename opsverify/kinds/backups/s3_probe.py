"""The daily backup probe over a bucket prefix: list every page, then read the newest object once."""

from __future__ import annotations

import time
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, cast

from opsverify.backups.s3.access import make_client
from opsverify.backups.s3.errors import describe
from opsverify.backups.s3.listing import S3Listing, S3Object, list_objects
from opsverify.backups.s3.reading import read_object
from opsverify.kinds.backups.facts import BackupFacts

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from opsverify.kinds.backups.model import BackupCheck


def find_s3(entry: BackupCheck) -> tuple[BackupFacts, S3Listing | None, S3Client | None]:
    """List the entry's prefix (newest first) without reading any object; failures become `facts.error`."""
    from botocore.exceptions import BotoCoreError, ClientError

    location, access = entry.location_and_access()
    facts = BackupFacts(
        cast(Path, PurePosixPath("/" + location.prefix)), entry.pattern, location=access.describe(location)
    )
    try:
        client = make_client(access)
        listing = list_objects(client, location, entry.pattern, entry.ignore)
    except (BotoCoreError, ClientError, ValueError) as exc:
        facts.error = describe(exc, access, location)
        return facts, None, None
    facts.files, facts.in_progress, facts.other_names = (
        listing.complete,
        listing.in_progress,
        listing.other_names,
    )
    facts.checked_at = time.time()
    return facts, listing, client


def probe_s3(entry: BackupCheck) -> BackupFacts:
    """Find the entry's objects and check the newest (one streamed read; an archived one as allowed)."""
    facts, listing, client = find_s3(entry)
    newest = facts.newest
    if listing is None or client is None or not isinstance(newest, S3Object):
        return facts
    if newest.archived and entry.allow_archived:
        facts.archived_skipped = f"in storage class {newest.storage_class}"
        return facts
    location, access = entry.location_and_access()
    read = read_object(
        client,
        access,
        location,
        newest,
        declared=entry.format,
        items_path=entry.items_path,
        client_bin=entry.client_bin,
        checksum=entry.checksum,
        sidecar=listing.sidecars.get(f"{newest.name}.sha256"),
    )
    facts.inspection, facts.checksum, facts.changed_during_check = (
        read.inspection,
        read.checksum,
        read.changed,
    )
    return facts
