"""pg_dump directory backups in a bucket, as teams upload them: `pg_dump -Fd -f /backups/db_2026-01-01`, then
`aws s3 sync /backups/db_2026-01-01 s3://bucket/db/db_2026-01-01/`. Each "folder" under the prefix is one
backup (its size the sum of its objects, its time the newest LastModified); a folder without `toc.dat` is
still being uploaded. pg_restore needs the files, so a folder is read through a temporary copy, after a
check that the disk has room for it; each object's ETag (the MD5 of a single-part upload) is checked on
the way, and `NAME.sha256` beside the folder (`sha256sum NAME/*`) is its checksum, as for a folder here.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, cast

from opsverify.backups.files import SIDECAR_SUFFIXES, Skipped
from opsverify.backups.sources.s3_access import S3Access, S3Location
from opsverify.backups.sources.s3_errors import S3Error
from opsverify.backups.sources.s3_listing import ARCHIVED_CLASSES, S3Listing, S3Object, object_from
from opsverify.backups.sources.s3_reading import check_room, get_object, object_checksum
from opsverify.backups.stream import read_handle

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

TOC = "toc.dat"


@dataclass(frozen=True)
class S3Folder(S3Object):
    """A pg_dump directory under the prefix: `key` is its own prefix (`db/db_2026-01-01/`), `members` its
    objects; its storage class is an archived one when any member's is."""

    members: tuple[S3Object, ...] = ()


def list_folders(client: S3Client, location: S3Location, pattern: str, ignore: Sequence[str]) -> S3Listing:
    """The folders directly under the prefix whose names match `pattern`, newest first; a folder without
    toc.dat is in progress. Objects beside them: `NAME.sha256` sidecars, else other names. Raises botocore
    errors."""
    listing = S3Listing(cast(Path, PurePosixPath(location.url)), pattern)
    groups: dict[str, list[S3Object]] = {}
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=location.bucket, Prefix=location.prefix):
        listing.pages += 1
        for item in page.get("Contents", []):
            obj = object_from(cast(dict[str, Any], item))
            name, _, rest = obj.key[len(location.prefix) :].partition("/")
            if rest:
                groups.setdefault(name, []).append(obj)
            elif name.endswith(SIDECAR_SUFFIXES):
                listing.sidecars[name] = obj
            elif name:
                listing.other_names.append(name)
    for name, members in sorted(groups.items()):
        _add_folder(listing, location, name, members, pattern, ignore)
    listing.complete.sort(key=lambda f: (f.mtime, f.name), reverse=True)
    return listing


def _add_folder(
    listing: S3Listing,
    location: S3Location,
    name: str,
    members: list[S3Object],
    pattern: str,
    ignore: Sequence[str],
) -> None:
    ignored = next((glob for glob in ignore if fnmatch.fnmatch(name, glob)), None)
    if ignored is not None:
        if fnmatch.fnmatch(name, pattern):
            listing.in_progress.append(Skipped(name, f"still being written ({ignored})"))
        return
    if not fnmatch.fnmatch(name, pattern):
        listing.other_names.append(f"{name}/")
        return
    key = f"{location.prefix}{name}/"
    if not any(obj.key == f"{key}{TOC}" for obj in members):
        listing.in_progress.append(
            Skipped(name, f"no {TOC} in it: still being uploaded, or not a pg_dump -Fd folder")
        )
        return
    archived = next((obj.storage_class for obj in members if obj.storage_class in ARCHIVED_CLASSES), None)
    listing.complete.append(
        S3Folder(
            cast(Path, PurePosixPath(key.rstrip("/"))),
            sum(obj.size for obj in members),
            max(obj.mtime for obj in members),
            is_dir=True,
            key=key,
            storage_class=archived or "STANDARD",
            members=tuple(members),
        )
    )


def download_folder(
    client: S3Client, access: S3Access, location: S3Location, folder: S3Folder, workdir: Path
) -> Path:
    """Copy the folder's objects into `workdir/NAME/` after a free-space check (S3Error naming the folder
    and the bytes needed); an object's ETag MD5 disagreeing with what arrived is an S3Error. Raises
    ObjectChanged when an object was deleted or replaced since the listing."""
    check_room(workdir, folder.size, copies=1, what=f"the folder {folder.name}/")
    target = workdir / folder.name
    target.mkdir()
    for obj in folder.members:
        relative = PurePosixPath(obj.key[len(folder.key) :])
        if not relative.name or ".." in relative.parts:
            continue  # a "folder" marker, or a key that would leave the copy
        local = target.joinpath(*relative.parts)
        local.parent.mkdir(parents=True, exist_ok=True)
        stream, _response = get_object(client, access, location, obj, md5=True)
        try:
            with local.open("wb") as handle:
                read_handle(stream, gzip=False, sinks=[handle], hash_file=False)
        finally:
            stream.close()
        own = object_checksum(obj, None, "", None, None, stream.md5())
        for problem in own.problems(required=False):
            raise S3Error(f"s3://{location.bucket}/{obj.key}: {problem}")
        os.utime(local, (obj.mtime, obj.mtime))
    os.utime(target, (folder.mtime, folder.mtime))
    return target
