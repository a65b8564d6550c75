"""The first bytes that name a file's format (a leaf: the format modules and the readers share them)."""

from __future__ import annotations

GZIP_MAGIC = b"\x1f\x8b"
CUSTOM_MAGIC = b"PGDMP"
SQLITE_MAGIC = b"SQLite format 3\x00"
UNSUPPORTED_MAGIC = {
    b"\x28\xb5\x2f\xfd": "zstd",
    b"\x04\x22\x4d\x18": "lz4",
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
    b"PK\x03\x04": "zip",
}


def is_tar(head: bytes) -> bool:
    """A POSIX (ustar) tar header: the magic sits at offset 257 of the first block."""
    return len(head) >= 262 and head[257:262] == b"ustar"
