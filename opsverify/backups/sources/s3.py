"""Backups in S3-compatible object storage (`path: s3://bucket/prefix/`): AWS S3, MinIO, Ceph RGW, R2, B2,
Wasabi, GCS's interoperability API — one client, an `endpoint_url`.

The prefix is listed like a folder (every page of 1,000 keys); the newest object is read once, streamed
into its format's own reader with sha256 on the way (pg-custom through a temporary file, which pg_restore
needs to seek); its checksum is a `.sha256` sidecar object, S3's ChecksumSHA256, or a single-part ETag's MD5.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING, Any, cast

from opsverify.backups.checksum import ChecksumResult
from opsverify.backups.files import BackupFile, Listing
from opsverify.backups.formats import FormatError, ReadOptions, detect_head, get_format
from opsverify.backups.inspection import Inspection
from opsverify.backups.integrity import inspect_backup
from opsverify.backups.pgtools import ToolMissing
from opsverify.backups.sources.base import BackupEntry, BackupSource, SourceError
from opsverify.backups.sources.local import verify_checksum
from opsverify.backups.sources.s3_access import S3Access, S3Location, make_client, parse_s3_url
from opsverify.backups.sources.s3_errors import S3Error, archived_message, describe
from opsverify.backups.sources.s3_folders import S3Folder, download_folder, list_folders
from opsverify.backups.sources.s3_listing import S3Object, list_objects
from opsverify.backups.sources.s3_reading import (
    HEAD_BYTES,
    ObjectChanged,
    ObjectStream,
    copy_to,
    full_object_sha256,
    get_object,
    object_checksum,
    read_small,
    stream_path,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

STREAMED = frozenset({"pg-plain", "mysql-plain", "gzip", "json", "tar", "sqlite"})
"""Formats whose reader only opens the file and reads it in order: fed straight from the GET."""


class S3Source(BackupSource):
    """A bucket prefix; `s3:` of the entry says where the API answers and who asks."""

    name = "s3"
    schemes = ("s3",)

    def __init__(self, entry: BackupEntry, base_dir: Path) -> None:
        super().__init__(entry, base_dir)
        try:
            self.bucket = parse_s3_url(entry.path)
        except ValueError as exc:
            raise SourceError(str(exc)) from None
        settings = getattr(entry, "s3", None)
        self.access: S3Access = settings.access() if settings is not None else S3Access()
        self.location = PurePosixPath("/" + self.bucket.prefix)
        self.place = self.access.describe(self.bucket)
        self._client: S3Client | None = None
        self._sidecars: dict[str, S3Object] = {}
        self._read: dict[str, Any] = {}

    @property
    def client(self) -> S3Client:
        if self._client is None:
            try:
                self._client = make_client(self.access)
            except Exception as exc:  # noqa: BLE001 - botocore's profile/endpoint errors, each described
                raise S3Error(describe(exc, self.access, self.bucket)) from None
        return self._client

    def describe(self) -> str:
        return f"prefix {self.place}"

    def list(self, pattern: str, ignore: list[str]) -> Listing:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            if self.entry.format == "pg-directory":
                listing = list_folders(self.client, self.bucket, pattern, ignore)
            else:
                listing = list_objects(self.client, self.bucket, pattern, ignore, self.access.recursive)
        except (BotoCoreError, ClientError) as exc:
            raise S3Error(describe(exc, self.access, self.bucket)) from None
        self._sidecars = listing.sidecars
        return listing

    def stat(self, backup: BackupFile) -> BackupFile | None:
        return backup  # an object appears whole; `changed` says whether the read found it replaced

    def open(self, backup: BackupFile) -> IO[bytes]:
        stream, _response = get_object(self.client, self.access, self.bucket, _object(backup), md5=False)
        return cast(IO[bytes], stream)

    def fetch(self, backup: BackupFile, workdir: Path) -> Path:
        """Download the object (after a free-space check) with its mtime set to LastModified; its `.sha256`
        sidecar beside it; S3's own checksum of it checked on the way (S3Error when it disagrees)."""
        obj = _object(backup)
        sidecar = self._sidecars.get(f"{obj.name}.sha256")
        if isinstance(obj, S3Folder):
            path = download_folder(self.client, self.access, self.bucket, obj, workdir)
            if sidecar is not None:
                text = read_small(self.client, self.access, self.bucket, sidecar.key)
                (workdir / sidecar.name).write_text(text, encoding="utf-8")
            return path
        stream, response = get_object(self.client, self.access, self.bucket, obj, md5=sidecar is None)
        try:
            path, sha = copy_to(stream, obj, workdir, copies=1)
        finally:
            stream.close()
        if sidecar is not None:
            text = read_small(self.client, self.access, self.bucket, sidecar.key)
            (workdir / sidecar.name).write_text(text, encoding="utf-8")
            return path
        own = object_checksum(obj, None, "", full_object_sha256(response), sha, stream.md5())
        for problem in own.problems(required=False):
            raise S3Error(f"s3://{self.bucket.bucket}/{obj.key}: {problem}")
        return path

    def head(self, backup: BackupFile) -> bytes:
        """The object's first bytes (one ranged GET): what a drill picks the format and sandbox by before the
        object itself streams into the restore."""
        obj = _object(backup)
        return read_small(self.client, self.access, self.bucket, obj.key, HEAD_BYTES, text=False)

    def stream(self, backup: BackupFile) -> tuple[Path, ObjectStream]:
        """The object opened for one streamed read (a path that opens to the GET's body, as the restore reads
        a file); `finish_stream` then records what the read found for `checksum` and `changed`."""
        obj = _object(backup)
        sidecar = self._sidecars.get(f"{obj.name}.sha256")
        md5 = self.entry.checksum != "off" and sidecar is None
        try:
            stream, response = get_object(self.client, self.access, self.bucket, obj, md5=md5)
        except ObjectChanged as exc:
            self._read = {"changed": str(exc)}
            raise
        stream.quiet = (
            True  # a read cut short ends the stream: the restore stops uncommitted, `changed` says why
        )
        self._read = {"response": response, "sidecar": sidecar, "stream": stream}
        return stream_path(obj.name, stream), stream

    def finish_stream(self, sha: str | None) -> None:
        """After the streamed read: its sha256, and the reason it stopped short (cut, refused), if it did."""
        stream: ObjectStream | None = self._read.get("stream")
        if stream is not None:
            stream.close()
            self._read.update(sha=sha, md5=stream.md5())
            if stream.error:
                self._read["changed"] = stream.error

    def inspect(self, backup: BackupFile) -> Inspection:
        entry, obj = self.entry, _object(backup)
        started = time.monotonic()
        if not getattr(entry, "read_newest", True):
            return Inspection("not read (read_newest: false): listing only")
        if obj.archived and getattr(entry, "allow_archived", False):
            return Inspection(f"not read: in storage class {obj.storage_class} (allow_archived)")
        if isinstance(obj, S3Folder):
            return self._inspect_folder(obj, started)
        sidecar = self._sidecars.get(f"{obj.name}.sha256")
        md5 = entry.checksum != "off" and sidecar is None
        try:
            stream, response = get_object(self.client, self.access, self.bucket, obj, md5=md5)
        except ObjectChanged as exc:
            self._read = {"changed": str(exc)}
            return Inspection("unknown")
        except S3Error as exc:
            if "is in storage class" in str(exc):
                return Inspection(
                    "unknown",
                    defects=[archived_message(f"s3://{self.bucket.bucket}/{obj.key}", obj.storage_class)],
                )
            raise
        try:
            inspection = self._read_stream(stream, obj)
        finally:
            stream.close()
        self._read = {"response": response, "sha": inspection.sha256, "md5": stream.md5(), "sidecar": sidecar}
        inspection.seconds = time.monotonic() - started
        return inspection

    def _inspect_folder(self, folder: S3Folder, started: float) -> Inspection:
        """A pg_dump directory: downloaded (after a free-space check) into a temporary folder that is always
        removed, then read as a folder here is; its sidecar checked against the copy's files."""
        entry = self.entry
        if folder.archived:
            return Inspection(
                "unknown",
                defects=[archived_message(f"s3://{self.bucket.bucket}/{folder.key}", folder.storage_class)],
            )
        with tempfile.TemporaryDirectory(prefix="opsverify-s3-") as workdir:
            try:
                copy = self.fetch(folder, Path(workdir))
            except ObjectChanged as exc:
                self._read = {"changed": str(exc)}
                return Inspection("unknown")
            local = BackupFile(copy, folder.size, folder.mtime, is_dir=True)
            inspection = inspect_backup(
                local, declared="pg-directory", client_bin=entry.client_bin, hash_file=entry.checksum != "off"
            )
            checksum = verify_checksum(local, inspection) if entry.checksum != "off" else ChecksumResult(None)
        url = f"s3://{self.bucket.bucket}/{folder.key.rstrip('/')}"
        inspection.defects = [defect.replace(str(copy), url) for defect in inspection.defects]
        self._read = {"checksum": checksum}
        inspection.seconds = time.monotonic() - started
        return inspection

    def _read_stream(self, stream: ObjectStream, obj: S3Object) -> Inspection:
        entry = self.entry
        declared = entry.format
        if obj.size == 0:
            return Inspection(
                declared if declared != "auto" else "unknown",
                defects=[
                    "is empty (0 bytes): the backup job wrote nothing; check its log (disk full? credentials?)"
                ],
            )
        try:
            detected = detect_head(stream.peek(HEAD_BYTES), obj.name, declared)
        except FormatError as exc:
            return Inspection(declared if declared != "auto" else "unknown", defects=[str(exc)])
        fmt = get_format(detected.format)
        options = ReadOptions(
            items_path=entry.items_path, client_bin=entry.client_bin, hash_file=entry.checksum != "off"
        )
        if fmt is None or detected.format not in STREAMED:
            with tempfile.TemporaryDirectory(prefix="opsverify-s3-") as workdir:
                copy, sha = copy_to(stream, obj, Path(workdir))
                local = BackupFile(copy, obj.size, obj.mtime)
                inspection = inspect_backup(
                    local,
                    declared=declared,
                    items_path=entry.items_path,
                    client_bin=entry.client_bin,
                    hash_file=False,
                )
                inspection.sha256 = sha if options.hash_file else None
            return inspection
        inspection = Inspection(detected.label, detected)
        try:
            fmt.read(
                BackupFile(stream_path(obj.name, stream), obj.size, obj.mtime), detected, inspection, options
            )
        except ToolMissing as exc:
            inspection.defects.append(str(exc))
        return inspection

    def checksum(self, backup: BackupFile, inspection: Inspection) -> ChecksumResult:
        obj, read = _object(backup), self._read
        if "checksum" in read:
            return cast(ChecksumResult, read["checksum"])
        if "response" not in read:
            return ChecksumResult(None)
        sidecar: S3Object | None = read["sidecar"]
        text = None
        if sidecar is not None:
            try:
                text = read_small(self.client, self.access, self.bucket, sidecar.key)
            except S3Error as exc:
                return ChecksumResult(cast(Path, PurePosixPath(sidecar.key)), error=str(exc))
        key = sidecar.key if sidecar is not None else ""
        return object_checksum(obj, text, key, full_object_sha256(read["response"]), read["sha"], read["md5"])

    def changed(self, backup: BackupFile) -> str | None:
        return cast(str | None, self._read.get("changed"))


def _object(backup: BackupFile) -> S3Object:
    if not isinstance(backup, S3Object):
        raise SourceError(f"{backup.name} was not listed from a bucket")
    return backup


__all__ = ["S3Location", "S3Source"]
