"""Listing a bucket prefix like a folder: every page (1,000 keys each), names matched against `pattern`."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, cast

from opsverify.backups.files import SIDECAR_SUFFIXES, BackupFile, Listing, Skipped
from opsverify.backups.sources.s3_access import S3Location

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

ARCHIVED_CLASSES = ("GLACIER", "DEEP_ARCHIVE")  # GLACIER_IR is read like STANDARD


@dataclass(frozen=True)
class S3Object(BackupFile):
    """One backup object: its key is `path` (a PurePosixPath), with what S3 says about it."""

    key: str = ""
    etag: str = ""
    storage_class: str = "STANDARD"
    checksum_algorithms: tuple[str, ...] = ()

    @property
    def archived(self) -> bool:
        return self.storage_class in ARCHIVED_CLASSES

    @property
    def single_part_md5(self) -> str | None:
        """The ETag of a single-part upload is the MD5 of the object (multipart ETags end in -N)."""
        tag = self.etag.strip('"').lower()
        return tag if len(tag) == 32 and all(c in "0123456789abcdef" for c in tag) else None


@dataclass
class S3Listing(Listing):
    """A prefix's listing: backups newest first, and the sidecar objects (`NAME.sha256`) by name."""

    sidecars: dict[str, S3Object] = field(default_factory=dict)
    pages: int = 0


def object_from(item: dict[str, Any]) -> S3Object:
    key = str(item["Key"])
    return S3Object(
        cast(Path, PurePosixPath(key)),
        int(item.get("Size", 0)),
        item["LastModified"].timestamp(),
        key=key,
        etag=str(item.get("ETag", "")),
        storage_class=str(item.get("StorageClass") or "STANDARD"),
        checksum_algorithms=tuple(str(name) for name in item.get("ChecksumAlgorithm", [])),
    )


def list_objects(
    client: S3Client, location: S3Location, pattern: str, ignore: Sequence[str], recursive: bool = False
) -> S3Listing:
    """The objects directly under the prefix matching `pattern` (by name), newest first (by LastModified).

    Keys under deeper "folders" are other names, as subfolders are for a folder, unless `recursive`.
    Raises botocore errors.
    """
    listing = S3Listing(cast(Path, PurePosixPath(location.url)), pattern)
    paginator = client.get_paginator("list_objects_v2")
    delimiter = "" if recursive else "/"  # "" (no delimiter): every key under the prefix
    pages = paginator.paginate(Bucket=location.bucket, Prefix=location.prefix, Delimiter=delimiter)
    for page in pages:
        listing.pages += 1
        for common in page.get("CommonPrefixes", []):
            listing.other_names.append(str(common.get("Prefix", ""))[len(location.prefix) :])
        for item in page.get("Contents", []):
            _add(listing, object_from(cast(dict[str, Any], item)), pattern, ignore)
    listing.complete.sort(key=lambda f: (f.mtime, f.name), reverse=True)
    return listing


def _add(listing: S3Listing, obj: S3Object, pattern: str, ignore: Sequence[str]) -> None:
    name = obj.name
    if not name:
        return  # the "folder" marker object some tools write
    if name.endswith(SIDECAR_SUFFIXES):
        listing.sidecars[name] = obj
        return
    ignored = next((glob for glob in ignore if fnmatch.fnmatch(name, glob)), None)
    if ignored is not None:
        base = name.rsplit(".", 1)[0] if "." in name else name
        if fnmatch.fnmatch(name, pattern) or fnmatch.fnmatch(base, pattern):
            listing.in_progress.append(Skipped(name, f"still being written ({ignored})"))
        return
    if not fnmatch.fnmatch(name, pattern):
        listing.other_names.append(name)
        return
    listing.complete.append(obj)
