"""Reading one object: a single streamed GET with sha256 on the way, or a temporary copy for the formats
that need a seekable file; then its checksum (a `.sha256` sidecar, S3's ChecksumSHA256, a single-part
ETag's MD5)."""

from __future__ import annotations

import base64
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, cast

from opsverify.backups.checksum import ChecksumResult, parse_sidecar
from opsverify.backups.files import BackupFile
from opsverify.backups.formats import FormatError, detect_head
from opsverify.backups.integrity import Inspection, inspect_backup, judge_gzip, judge_mysql, judge_plain
from opsverify.backups.mysql_dump import MysqlDumpScanner
from opsverify.backups.plain_sql import PlainSqlScanner
from opsverify.backups.s3.access import S3Access, S3Location
from opsverify.backups.s3.errors import S3Error, archived_message, describe
from opsverify.backups.s3.listing import S3Object
from opsverify.backups.stream import CHUNK_SIZE, BackgroundHash, read_handle
from opsverify.units import format_size

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

STREAMED = ("pg-plain", "mysql-plain", "gzip")  # read straight from the response; the rest via a temp file
HEAD_BYTES = 64 * 1024
SIDECAR_LIMIT = 64 * 1024
ROOM_MARGIN = 64 << 20  # free space kept beyond the copy (and the copy's own inflated or working copy)


class ObjectChanged(Exception):
    """The listed object was deleted or replaced before it was read."""


@dataclass
class ObjectRead:
    """What reading the newest object found: its inspection and checksum, or why it could not be read."""

    inspection: Inspection | None = None
    checksum: ChecksumResult | None = None
    changed: str | None = None


class ObjectStream:
    """The body of a GET as a file object: counts bytes, optionally MD5s them, and refuses a short body."""

    def __init__(self, body: Any, expected: int, describe_error: Any, md5: bool) -> None:
        self._body = body
        self._expected = expected
        self._describe = describe_error
        self._pending = b""
        self._md5 = BackgroundHash("md5") if md5 else None
        self.received = 0

    def peek(self, size: int) -> bytes:
        """The first `size` bytes, handed out again by the next `read` calls."""
        while len(self._pending) < size:
            block = self._pull(size - len(self._pending))
            if not block:
                break
            self._pending += block
        return self._pending[:size]

    def read(self, size: int = -1, /) -> bytes:
        if self._pending:
            block, self._pending = self._pending, b""
            return block
        return self._pull(CHUNK_SIZE if size < 0 else size)

    def _pull(self, size: int) -> bytes:
        from botocore.exceptions import BotoCoreError
        from urllib3.exceptions import HTTPError

        try:
            block = cast(bytes, self._body.read(size))
        except (BotoCoreError, HTTPError, OSError) as exc:
            raise S3Error(self._describe(exc)) from None
        if block:
            self.received += len(block)
            if self._md5 is not None:
                self._md5.update(block)
        elif self.received < self._expected:
            raise S3Error(
                f"{self._describe(None)} was cut short: {format_size(self.received)} received of its "
                f"{format_size(self._expected)} (Content-Length); run the check again, and if it repeats, "
                "the stored object is damaged"
            )
        return block

    def md5(self) -> str | None:
        return self._md5.hexdigest() if self._md5 is not None else None

    def close(self) -> None:
        if self._md5 is not None:
            self._md5.close()
        self._body.close()


def read_object(
    client: S3Client,
    access: S3Access,
    location: S3Location,
    obj: S3Object,
    *,
    declared: str = "auto",
    items_path: str | None = None,
    client_bin: str | None = None,
    checksum: str = "auto",
    sidecar: S3Object | None = None,
) -> ObjectRead:
    """Read `obj` once and judge it. Raises S3Error when the bucket refuses (access, network)."""
    started = time.monotonic()
    result = ObjectRead()
    try:
        # One GET: S3's ChecksumSHA256 comes with it when asked for (botocore then checks it at the end too)
        extra = {"ChecksumMode": "ENABLED"} if "SHA256" in obj.checksum_algorithms else {}
        response = _request(client.get_object, access, location, obj, **extra)
        full_sha = _full_object_sha256(response)
        md5 = None if (checksum == "off" or sidecar or full_sha) else obj.single_part_md5
        if response.get("ServerSideEncryption") == "aws:kms" or response.get("SSECustomerAlgorithm"):
            md5 = None  # the ETag of an SSE-KMS or SSE-C object is not its MD5
        stream = ObjectStream(
            response["Body"],
            int(response.get("ContentLength", obj.size)),
            lambda exc: (
                describe(exc, access, location, obj.key) if exc else f"s3://{location.bucket}/{obj.key}"
            ),
            md5=md5 is not None,
        )
        try:
            result.inspection = _inspect(stream, obj, declared, items_path, client_bin, checksum != "off")
        finally:
            stream.close()
        if checksum != "off":
            sha = result.inspection.sha256
            result.checksum = _checksum(
                client, access, location, obj, sidecar, full_sha, md5, sha, stream.md5()
            )
    except ObjectChanged as exc:
        result.changed = str(exc)
    except S3Error as exc:
        result.inspection = Inspection("unknown", defects=[str(exc)])
    if result.inspection is not None:
        result.inspection.seconds = time.monotonic() - started
    return result


def _request(
    call: Any, access: S3Access, location: S3Location, obj: S3Object, **extra: Any
) -> dict[str, Any]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return cast(dict[str, Any], call(Bucket=location.bucket, Key=obj.key, IfMatch=obj.etag, **extra))
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in ("NoSuchKey", "404", "PreconditionFailed", "412"):
            raise ObjectChanged(describe(exc, access, location, obj.key)) from None
        if code == "InvalidObjectState":
            storage = str(exc.response.get("Error", {}).get("StorageClass") or obj.storage_class)
            raise S3Error(archived_message(f"s3://{location.bucket}/{obj.key}", storage)) from None
        raise S3Error(describe(exc, access, location, obj.key)) from None
    except BotoCoreError as exc:
        raise S3Error(describe(exc, access, location, obj.key)) from None


def _full_object_sha256(response: dict[str, Any]) -> str | None:
    """S3's ChecksumSHA256 as hex when it is of the whole object (a multipart upload's is of its parts)."""
    value = str(response.get("ChecksumSHA256") or "")
    if not value or "-" in value or response.get("ChecksumType") == "COMPOSITE":
        return None
    try:
        return base64.b64decode(value).hex()
    except ValueError:
        return None


def _inspect(
    stream: ObjectStream,
    obj: S3Object,
    declared: str,
    items_path: str | None,
    client_bin: str | None,
    hash_file: bool,
) -> Inspection:
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
    inspection = Inspection(detected.label, detected)
    if detected.format == "pg-plain":
        plain = PlainSqlScanner()
        judge_plain(
            detected,
            read_handle(stream, gzip=detected.gzip, sinks=[plain], hash_file=hash_file),
            plain,
            inspection,
        )
    elif detected.format == "mysql-plain":
        mysql = MysqlDumpScanner()
        judge_mysql(
            detected,
            read_handle(stream, gzip=detected.gzip, sinks=[mysql], hash_file=hash_file),
            mysql,
            inspection,
        )
    elif detected.format == "gzip":
        judge_gzip(read_handle(stream, gzip=True, sinks=[], hash_file=hash_file), inspection)
    else:
        with tempfile.TemporaryDirectory(prefix="opsverify-s3-") as workdir:
            copy, sha = copy_to(stream, obj, Path(workdir))
            local = BackupFile(copy, obj.size, obj.mtime)
            inspection = inspect_backup(
                local, declared=declared, items_path=items_path, client_bin=client_bin, hash_file=False
            )
            inspection.sha256 = sha if hash_file else None
    return inspection


def check_room(folder: Path, size: int, copies: int = 2) -> None:
    """Refuse a temporary copy that would fill the disk (S3Error naming the folder, the sizes and the fix)."""
    free = shutil.disk_usage(folder).free
    needed = size * copies + ROOM_MARGIN
    if free < needed:
        raise S3Error(
            f"not enough room in {folder} for a temporary copy of the object: {format_size(free)} free, "
            f"{format_size(needed)} needed; point TMPDIR at a larger disk"
        )


def copy_to(stream: ObjectStream, obj: S3Object, folder: Path) -> tuple[Path, str | None]:
    """Write the object into `folder` under its own name (sha256 on the way); its mtime is LastModified."""
    check_room(folder, obj.size)
    target = folder / obj.name
    with target.open("wb") as handle:
        read = read_handle(stream, gzip=False, sinks=[handle], hash_file=True)
    os.utime(target, (obj.mtime, obj.mtime))
    return target, read.sha256


def _checksum(
    client: S3Client,
    access: S3Access,
    location: S3Location,
    obj: S3Object,
    sidecar: S3Object | None,
    full_sha: str | None,
    etag_md5: str | None,
    sha: str | None,
    md5: str | None,
) -> ChecksumResult:
    """The first checksum the object has: a sidecar object, S3's ChecksumSHA256, the ETag's MD5."""
    if sidecar is not None:
        try:
            text = read_small(client, access, location, sidecar.key)
        except S3Error as exc:
            return ChecksumResult(cast(Path, PurePosixPath(sidecar.key)), error=str(exc))
        result = parse_sidecar(
            text, cast(Path, PurePosixPath(sidecar.key)), cast(Path, PurePosixPath(obj.key))
        )
        if not result.error and sha is not None:
            result.actual = {"": sha}
        return result
    if full_sha is not None and sha is not None:
        return ChecksumResult(
            cast(Path, PurePosixPath("ChecksumSHA256 (stored by S3)")), {"": full_sha}, {"": sha}
        )
    if etag_md5 is not None and md5 is not None:
        return ChecksumResult(
            cast(Path, PurePosixPath("ETag (MD5 of a single-part upload)")),
            {"": etag_md5},
            {"": md5},
            algorithm="md5",
        )
    return ChecksumResult(None)


def read_small(client: S3Client, access: S3Access, location: S3Location, key: str) -> str:
    """A small object's text (a sidecar): at most 64 KB."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        response = client.get_object(Bucket=location.bucket, Key=key, Range=f"bytes=0-{SIDECAR_LIMIT - 1}")
        return response["Body"].read().decode("utf-8", errors="replace")
    except (ClientError, BotoCoreError) as exc:
        raise S3Error(describe(exc, access, location, key)) from None


@dataclass
class Downloaded:
    """An object copied into a folder for a drill: the file, and its S3 checksum (sidecars are copied too)."""

    path: Path
    checksum: ChecksumResult


def download_object(
    client: S3Client,
    access: S3Access,
    location: S3Location,
    obj: S3Object,
    folder: Path,
    sidecar: S3Object | None,
) -> Downloaded:
    """Copy `obj` (and its `.sha256` sidecar) into `folder` with its LastModified as mtime, checking the
    object's own checksum on the way. Raises S3Error (the bucket refused, no room) or ObjectChanged."""
    extra = {"ChecksumMode": "ENABLED"} if "SHA256" in obj.checksum_algorithms else {}
    response = _request(client.get_object, access, location, obj, **extra)
    full_sha = None if sidecar else _full_object_sha256(response)
    md5 = None if (sidecar or full_sha) else obj.single_part_md5
    if response.get("ServerSideEncryption") == "aws:kms" or response.get("SSECustomerAlgorithm"):
        md5 = None
    stream = ObjectStream(
        response["Body"],
        int(response.get("ContentLength", obj.size)),
        lambda exc: describe(exc, access, location, obj.key) if exc else f"s3://{location.bucket}/{obj.key}",
        md5=md5 is not None,
    )
    try:
        path, sha = copy_to(stream, obj, folder)
    finally:
        stream.close()
    if sidecar is not None:
        (folder / sidecar.name).write_text(
            read_small(client, access, location, sidecar.key), encoding="utf-8"
        )
    return Downloaded(path, _checksum(client, access, location, obj, None, full_sha, md5, sha, stream.md5()))
