"""Reading one object of a bucket: a single streamed GET (counted, refused when cut short, MD5'd when the
ETag is to be checked), handed to the format's own reader as if it were a file; a temporary copy (after a
free-space check) for the formats that need a seekable file; and the object's checksums."""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Literal, cast, overload

from opsverify.backups.checksum import ChecksumResult, parse_sidecar
from opsverify.backups.sources.s3_access import S3Access, S3Location
from opsverify.backups.sources.s3_errors import S3Error, archived_message, describe
from opsverify.backups.sources.s3_listing import S3Object
from opsverify.backups.stream import CHUNK_SIZE, BackgroundHash, read_handle
from opsverify.units import format_size

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

HEAD_BYTES = 64 * 1024
SIDECAR_LIMIT = 64 * 1024
ROOM_MARGIN = 64 << 20  # free space kept beyond the copies


class ObjectChanged(S3Error):
    """The listed object was deleted or replaced before it was read."""


class ObjectStream:
    """The body of a GET as a file object: counts bytes, optionally MD5s them, and refuses a short body."""

    def __init__(
        self, body: Any, expected: int, name: str, describe_error: Callable[[Exception], str], md5: bool
    ):
        self._body = body
        self._expected = expected
        self._name = name
        self._describe = describe_error
        self._pending = b""
        self._md5 = BackgroundHash("md5") if md5 else None
        self._closed = False
        self.received = 0
        self.quiet = False
        """When set, a failed or short read ends the stream and says why in `error` instead of raising."""
        self.error: str | None = None

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
            wanted = len(self._pending) if size < 0 else size
            block, self._pending = self._pending[:wanted], self._pending[wanted:]
            return block
        return self._pull(CHUNK_SIZE if size < 0 else size)

    def _pull(self, size: int) -> bytes:
        from botocore.exceptions import BotoCoreError
        from urllib3.exceptions import HTTPError

        if self.error is not None:
            return b""
        try:
            block = cast(bytes, self._body.read(size))
        except (BotoCoreError, HTTPError, OSError) as exc:
            return self._stop(self._describe(exc))
        if block:
            self.received += len(block)
            if self._md5 is not None:
                self._md5.update(block)
        elif self.received < self._expected:
            return self._stop(
                f"{self._name} was cut short: {format_size(self.received)} received of its "
                f"{format_size(self._expected)} (Content-Length); run the check again, and if it repeats, "
                "the stored object is damaged"
            )
        return block

    def _stop(self, reason: str) -> bytes:
        if not self.quiet:
            raise S3Error(reason)
        self.error = reason
        return b""

    def md5(self) -> str | None:
        return self._md5.hexdigest() if self._md5 is not None else None

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            if self._md5 is not None:
                self._md5.close()
            self._body.close()

    def __enter__(self) -> ObjectStream:
        return self

    def __exit__(self, *exc: object) -> None:
        """Readers open and leave it like a file; the source closes it when the read is over."""


class StreamPath(PurePosixPath):
    """An object's name that opens to its streamed body: the format readers read it as they read a file
    (`path.open("rb")`, `path.name`), so one GET feeds the format's own full read."""

    stream: ObjectStream

    def open(self, *_args: object, **_kwargs: object) -> ObjectStream:
        return self.stream


def stream_path(name: str, stream: ObjectStream) -> Path:
    path = StreamPath(name)
    path.stream = stream
    return cast(Path, path)


def get_object(
    client: S3Client, access: S3Access, location: S3Location, obj: S3Object, md5: bool
) -> tuple[ObjectStream, dict[str, Any]]:
    """One GET of exactly the listed object (If-Match its ETag), S3's ChecksumSHA256 asked for when it has one.

    Raises ObjectChanged (deleted or replaced since the listing), S3Error (refused, unreachable; archived)."""
    from botocore.exceptions import BotoCoreError, ClientError

    url = f"s3://{location.bucket}/{obj.key}"
    extra: dict[str, Any] = {"ChecksumMode": "ENABLED"} if "SHA256" in obj.checksum_algorithms else {}
    try:
        response = cast(
            dict[str, Any], client.get_object(Bucket=location.bucket, Key=obj.key, IfMatch=obj.etag, **extra)
        )
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in ("NoSuchKey", "404", "PreconditionFailed", "412"):
            raise ObjectChanged(describe(exc, access, location, obj.key)) from None
        if code == "InvalidObjectState":
            storage = str(exc.response.get("Error", {}).get("StorageClass") or obj.storage_class)
            raise S3Error(archived_message(url, storage)) from None
        raise S3Error(describe(exc, access, location, obj.key)) from None
    except BotoCoreError as exc:
        raise S3Error(describe(exc, access, location, obj.key)) from None
    stream = ObjectStream(
        response["Body"],
        int(response.get("ContentLength", obj.size)),
        url,
        lambda exc: describe(exc, access, location, obj.key),
        md5=md5 and etag_is_md5(response),
    )
    return stream, response


def etag_is_md5(response: dict[str, Any]) -> bool:
    """The ETag of an SSE-KMS or SSE-C object is not its MD5."""
    return not (response.get("ServerSideEncryption") == "aws:kms" or response.get("SSECustomerAlgorithm"))


def full_object_sha256(response: dict[str, Any]) -> str | None:
    """S3's ChecksumSHA256 as hex when it is of the whole object (a multipart upload's is of its parts)."""
    value = str(response.get("ChecksumSHA256") or "")
    if not value or "-" in value or response.get("ChecksumType") == "COMPOSITE":
        return None
    try:
        return base64.b64decode(value).hex()
    except ValueError:
        return None


def check_room(folder: Path, size: int, copies: int = 2, what: str = "the object") -> None:
    """Refuse a temporary copy that would fill the disk (S3Error naming the folder, the sizes and the fix)."""
    problem = room_problem(folder, shutil.disk_usage(folder).free, size, copies, what)
    if problem is not None:
        raise S3Error(problem)


def room_problem(folder: Path, free: int, size: int, copies: int = 2, what: str = "the object") -> str | None:
    """Why `copies` copies of `size` bytes (and ROOM_MARGIN kept free) do not fit in `free` bytes, or None."""
    needed = size * copies + ROOM_MARGIN
    if free >= needed:
        return None
    return (
        f"not enough room in {folder} for a temporary copy of {what}: {format_size(free)} free, "
        f"{format_size(needed)} ({needed} bytes) needed; point TMPDIR (for a drill: restore.tmp_dir) at a larger disk"
    )


def copy_to(stream: ObjectStream, obj: S3Object, folder: Path, copies: int = 2) -> tuple[Path, str | None]:
    """Write the object into `folder` under its own name (sha256 on the way); its mtime is LastModified."""
    check_room(folder, obj.size, copies, what=obj.name)
    target = folder / obj.name
    with target.open("wb") as handle:
        read = read_handle(stream, gzip=False, sinks=[handle], hash_file=True)
    os.utime(target, (obj.mtime, obj.mtime))
    return target, read.sha256


def object_checksum(
    obj: S3Object,
    sidecar_text: str | None,
    sidecar_key: str,
    full_sha: str | None,
    sha: str | None,
    md5: str | None,
) -> ChecksumResult:
    """The first checksum the object has: a `.sha256` sidecar object, S3's ChecksumSHA256, the ETag's MD5."""
    if sidecar_text is not None:
        result = parse_sidecar(
            sidecar_text, cast(Path, PurePosixPath(sidecar_key)), cast(Path, PurePosixPath(obj.key))
        )
        if not result.error and sha is not None:
            result.actual = {"": sha}
        return result
    if full_sha is not None and sha is not None:
        return ChecksumResult(
            cast(Path, PurePosixPath("ChecksumSHA256 (stored by S3)")), {"": full_sha}, {"": sha}
        )
    etag = obj.single_part_md5
    if etag is not None and md5 is not None:
        name = cast(Path, PurePosixPath("ETag (MD5 of a single-part upload)"))
        return ChecksumResult(name, {"": etag}, {"": md5}, algorithm="md5")
    return ChecksumResult(None)


@overload
def read_small(
    client: S3Client,
    access: S3Access,
    location: S3Location,
    key: str,
    limit: int = ...,
    *,
    text: Literal[True] = ...,
) -> str: ...
@overload
def read_small(
    client: S3Client, access: S3Access, location: S3Location, key: str, limit: int, *, text: Literal[False]
) -> bytes: ...
def read_small(
    client: S3Client,
    access: S3Access,
    location: S3Location,
    key: str,
    limit: int = SIDECAR_LIMIT,
    *,
    text: bool = True,
) -> str | bytes:
    """A small object's text (a sidecar), or an object's first bytes: at most `limit` bytes (64 KB)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        response = client.get_object(Bucket=location.bucket, Key=key, Range=f"bytes=0-{limit - 1}")
        data = response["Body"].read()
        return data.decode("utf-8", errors="replace") if text else data
    except (ClientError, BotoCoreError) as exc:
        raise S3Error(describe(exc, access, location, key)) from None
