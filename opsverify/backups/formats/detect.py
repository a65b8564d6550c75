"""Which format a backup is in: from magic bytes first, then the file name's extension (asks the registry)."""

from __future__ import annotations

import zlib
from pathlib import Path

from opsverify.backups.files import BackupFile
from opsverify.backups.formats.registry import backup_formats, declared_formats
from opsverify.backups.inspection import Detected, FormatError
from opsverify.backups.magic import GZIP_MAGIC, UNSUPPORTED_MAGIC


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
                "cannot tell the format from the name or the first bytes; set `format:` to one of "
                + ", ".join(declared_formats())
            )
        return found
    wanted, wanted_gzip = declared_formats()[declared]
    if found is None:
        return Detected(wanted, bool(wanted_gzip))
    if wanted_gzip is not None and found.gzip != wanted_gzip:
        actual = "gzip-compressed" if found.gzip else "not gzip-compressed"
        raise FormatError(f"format: {declared} expected, but the file is {actual} ({found.label})")
    if wanted not in ("gzip", found.format) and _conclusive(found):
        raise FormatError(f"format: {declared} expected, but the file's first bytes say {found.label}")
    return Detected(wanted, found.gzip)


def _conclusive(found: Detected) -> bool:
    fmt = backup_formats().get(found.format)
    return fmt is not None and fmt.conclusive


def _sniff(backup: BackupFile) -> Detected | None:
    path = backup.path
    if backup.is_dir:
        for fmt in backup_formats().values():
            if fmt.directory is not None and fmt.directory(path):
                return Detected(fmt.name)
        raise FormatError("is a directory without toc.dat: not a pg_dump --format=directory backup")
    with path.open("rb") as handle:
        head = handle.read(65536)
    return _sniff_head(head, path)


def _sniff_head(head: bytes, path: Path) -> Detected | None:
    if head.startswith(GZIP_MAGIC):
        inner = _inflate_head(head)
        inner_format = by_magic(inner) or by_text(inner) or by_extension(path.stem)
        if path.suffix == ".tgz":
            inner_format = "tar"
        return Detected(inner_format or "gzip", gzip=True)
    for magic, name in UNSUPPORTED_MAGIC.items():
        if head.startswith(magic):
            raise FormatError(
                f"is {name}-compressed, which opsverify does not read; compress backups with gzip "
                "(or pg_dump --format=custom), or decompress before checking"
            )
    found = by_magic(head) or by_extension(path.name) or by_text(head)
    return Detected(found) if found else None


def _inflate_head(data: bytes) -> bytes:
    try:
        return zlib.decompressobj(wbits=31).decompress(data, 4096)
    except zlib.error:
        return b""


def by_magic(head: bytes) -> str | None:
    """The format whose magic bytes `head` starts with (certain)."""
    return next((f.name for f in backup_formats().values() if f.magic is not None and f.magic(head)), None)


def by_text(head: bytes) -> str | None:
    """The format `head` looks like (a hint)."""
    return next((f.name for f in backup_formats().values() if f.text is not None and f.text(head)), None)


def by_extension(name: str) -> str | None:
    """The format a file name suggests: a compound ending (`.tar.gz`) first, then the last suffix."""
    lowered = name.lower()
    formats = backup_formats().values()
    compound = next(
        (f.name for f in formats for ext in f.extensions if ext.count(".") > 1 and lowered.endswith(ext)),
        None,
    )
    if compound is not None:
        return compound
    suffix = Path(lowered).suffix
    return next((f.name for f in formats if suffix and suffix in f.extensions), None)
