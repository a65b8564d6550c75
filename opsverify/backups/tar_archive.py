"""Tar (optionally gzip) archives: every member read to its end in one streaming pass, unsafe paths refused."""

from __future__ import annotations

import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, cast

from opsverify.backups.stream import CHUNK_SIZE, GzipError, HashingReader, InflatingReader
from opsverify.units import plural

MAX_LISTED = 5
BLOCK = 512


@dataclass
class TarRead:
    bytes_read: int = 0
    sha256: str | None = None
    members: int = 0
    files: int = 0
    unsafe: list[str] | None = None
    error: str | None = None

    def defects(self) -> list[str]:
        problems = []
        unsafe = self.unsafe or []
        if unsafe:
            shown = ", ".join(unsafe[:MAX_LISTED])
            more = f" (+{len(unsafe) - MAX_LISTED} more)" if len(unsafe) > MAX_LISTED else ""
            problems.append(
                f"unsafe member paths (absolute or with ..): {shown}{more}; extracting would write outside "
                "the target folder: rebuild the archive with relative paths (tar -C DIR -czf ...)"
            )
        if self.error:
            problems.append(f"archive is unreadable after {plural(self.members, 'member')}: {self.error}")
        elif self.members == 0:
            problems.append("archive has no members: the backup job archived an empty or missing folder")
        return problems


def unsafe_reason(member: tarfile.TarInfo) -> str | None:
    """Why extracting `member` could escape the destination folder (None when it cannot)."""
    if _escapes(member.name):
        return member.name
    if (member.issym() or member.islnk()) and _escapes(member.linkname):
        return f"{member.name} -> {member.linkname}"
    return None


def _escapes(value: str) -> bool:
    path = PurePosixPath(value)
    return path.is_absolute() or ".." in path.parts


class _Counting:
    """The tar byte stream as tarfile reads it (raw file or inflated), counting what was handed out."""

    def __init__(self, source: HashingReader | InflatingReader) -> None:
        self._source = source
        self.delivered = 0

    def read(self, size: int = -1, /) -> bytes:
        data = self._source.read(size)
        self.delivered += len(data)
        return data


def read_tar(path: Path, *, gzip: bool, hash_file: bool = True) -> TarRead:
    """Read every member (tarfile's stream mode) while the same read hashes the file."""
    result = TarRead(unsafe=[])
    assert result.unsafe is not None
    with HashingReader(path) as reader:
        stream = _Counting(InflatingReader(reader) if gzip else reader)
        try:
            with tarfile.open(fileobj=cast(IO[bytes], stream), mode="r|") as archive:
                for member in archive:
                    result.members += 1
                    reason = unsafe_reason(member)
                    if reason:
                        result.unsafe.append(reason)
                    if member.isfile():
                        result.files += 1
                        extracted = archive.extractfile(member)
                        if extracted is not None:
                            while extracted.read(CHUNK_SIZE):
                                pass
                end_of_data = archive.offset
            while stream.read(CHUNK_SIZE):
                pass
            if result.members and stream.delivered - end_of_data < BLOCK:
                result.error = "it ends without the end-of-archive marker (the archive is truncated)"
        except GzipError as exc:
            result.error = str(exc)
        except (tarfile.TarError, EOFError, OSError) as exc:
            text = str(exc) or type(exc).__name__
            result.error = f"{text} (the archive is truncated)" if "unexpected end" in text else text
        reader.drain()
        result.bytes_read = reader.bytes_read
        result.sha256 = reader.hexdigest() if hash_file else None
    return result
