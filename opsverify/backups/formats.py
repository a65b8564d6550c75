"""Which format a backup is in: from magic bytes first, then the file name's extension."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

from opsverify.backups.files import BackupFile
from opsverify.backups.mysql_dump import starts_with_header

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
_EXTENSIONS = {
    ".sql": "pg-plain",
    ".dump": "pg-custom",
    ".pgdump": "pg-custom",
    ".backup": "pg-custom",
    ".custom": "pg-custom",
    ".sqlite": "sqlite",
    ".sqlite3": "sqlite",
    ".db": "sqlite",
    ".tar": "tar",
    ".tgz": "tar",
    ".json": "json",
    ".jsonl": "json",
}
_DECLARED = {
    "pg-plain": ("pg-plain", None),
    "pg-plain-gz": ("pg-plain", True),
    "pg-custom": ("pg-custom", False),
    "pg-directory": ("pg-directory", False),
    "sqlite": ("sqlite", None),
    "tar": ("tar", None),
    "json": ("json", None),
    "mysql-plain": ("mysql-plain", None),
    "mysql-plain-gz": ("mysql-plain", True),
    "gzip": ("gzip", True),
}


@dataclass(frozen=True)
class Detected:
    """A backup's format and whether it is gzip-compressed; `label` is how messages name it."""

    format: str
    gzip: bool = False

    @property
    def label(self) -> str:
        if self.format == "gzip":
            return "gzip"
        if self.format in ("pg-plain", "mysql-plain") and self.gzip:
            return f"{self.format}-gz"
        return f"{self.format}{' (gzip)' if self.gzip else ''}"


class FormatError(Exception):
    """The file cannot be one of the supported formats; the message says what it looks like instead."""


def detect_format(backup: BackupFile, declared: str = "auto") -> Detected:
    """The format of `backup`: magic bytes decide, the extension breaks ties, `declared` must agree."""
    return _decide(_sniff(backup), declared)


def detect_head(head: bytes, name: str, declared: str = "auto") -> Detected:
    """`detect_format` of a backup known by its name and first bytes (an object in a bucket, not a file)."""
    return _decide(_sniff_head(head, Path(name)), declared)


def _decide(found: Detected | None, declared: str) -> Detected:
    if declared == "auto":
        if found is None:
            raise FormatError(
                "cannot tell the format from the name or the first bytes; set `format:` to one of pg-plain, "
                "pg-plain-gz, pg-custom, pg-directory, mysql-plain, mysql-plain-gz, sqlite, tar, json, gzip"
            )
        return found
    wanted, wanted_gzip = _DECLARED[declared]
    if found is None:
        return Detected(wanted, bool(wanted_gzip))
    if wanted_gzip is not None and found.gzip != wanted_gzip:
        actual = "gzip-compressed" if found.gzip else "not gzip-compressed"
        raise FormatError(f"format: {declared} expected, but the file is {actual} ({found.label})")
    if wanted not in ("gzip", found.format) and _conclusive(found):
        raise FormatError(f"format: {declared} expected, but the file's first bytes say {found.label}")
    return Detected(wanted, found.gzip)


def _conclusive(found: Detected) -> bool:
    return found.format in ("pg-custom", "pg-directory", "sqlite", "tar", "mysql-plain")


def _sniff(backup: BackupFile) -> Detected | None:
    path = backup.path
    if backup.is_dir:
        if (path / "toc.dat").is_file():
            return Detected("pg-directory")
        raise FormatError("is a directory without toc.dat: not a pg_dump --format=directory backup")
    with path.open("rb") as handle:
        head = handle.read(65536)
    return _sniff_head(head, path)


def _sniff_head(head: bytes, path: Path) -> Detected | None:
    if head.startswith(GZIP_MAGIC):
        inner = _inflate_head(head)
        stem = path.name[: -len(path.suffix)] if path.suffix in (".gz", ".gzip") else path.stem
        inner_format = _by_magic(inner) or _by_text(inner) or _by_extension(Path(stem))
        if path.suffix == ".tgz":
            inner_format = "tar"
        return Detected(inner_format or "gzip", gzip=True)
    for magic, name in UNSUPPORTED_MAGIC.items():
        if head.startswith(magic):
            raise FormatError(
                f"is {name}-compressed, which opsverify does not read; compress backups with gzip "
                "(or pg_dump --format=custom), or decompress before checking"
            )
    found = _by_magic(head) or _by_mysql_header(head) or _by_extension(path) or _by_text(head)
    return Detected(found) if found else None


def _inflate_head(data: bytes) -> bytes:
    try:
        return zlib.decompressobj(wbits=31).decompress(data, 4096)
    except zlib.error:
        return b""


def _by_magic(head: bytes) -> str | None:
    if head.startswith(CUSTOM_MAGIC):
        return "pg-custom"
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if len(head) >= 262 and head[257:262] == b"ustar":
        return "tar"
    return None


def _by_mysql_header(head: bytes) -> str | None:
    """mysqldump and mariadb-dump start with `-- MySQL dump 10.19 ...` / `-- MariaDB dump 10.19 ...`."""
    return "mysql-plain" if starts_with_header(head) else None


def _by_text(head: bytes) -> str | None:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if starts_with_header(head):
        return "mysql-plain"
    if text.startswith(b"--") or b"PostgreSQL database dump" in head[:2048]:
        return "pg-plain"
    if text[:1] in (b"{", b"["):
        return "json"
    return None


def _by_extension(path: Path) -> str | None:
    name = path.name.lower()
    if name.endswith((".tar.gz", ".tgz")):
        return "tar"
    return _EXTENSIONS.get(Path(name).suffix)
