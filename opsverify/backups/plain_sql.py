"""Inspector of pg_dump plain-SQL text, fed in chunks: header, trailer, CREATE TABLE / COPY / INSERT counts.

The same scanner reads `pg_restore -f -` output, so custom and directory archives are judged alike.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path

HEADER = b"-- PostgreSQL database dump"
TRAILER = b"-- PostgreSQL database dump complete"
TRAILER_WINDOW_LINES = 8  # the trailer must be among the last non-blank lines (\unrestrict may follow it)
_TAIL_BYTES = 4096
_HEAD_BYTES = 8192
_DUMPED_FROM = re.compile(rb"-- Dumped from database version (\S+)")
# pg_dump writes every CREATE TABLE before the first COPY, so those two are only counted until data starts;
# after that one pattern per chunk is searched (the data is most of a dump; long patterns scan fastest).
_COPY = b" FROM stdin;\n"
_BEFORE_DATA = {"create_tables": b"\nCREATE TABLE ", "inserts": b"\nINSERT INTO "}
_LONGEST = max(len(p) for p in (_COPY, *_BEFORE_DATA.values()))


@dataclass
class PlainSqlScan:
    """Counts and markers found in the SQL text."""

    header: bool = False
    trailer: bool = False
    create_tables: int = 0
    copies: int = 0
    inserts: int = 0
    dumped_from: str | None = None
    last_lines: list[str] = field(default_factory=list)

    def defects(self, bytes_seen: int) -> list[str]:
        """Format problems: not a pg_dump, cut short, or nothing that creates or fills a table."""
        problems = []
        if bytes_seen == 0:
            return ["the dump is empty (0 bytes of SQL): the dump command produced no output; check its log"]
        if not self.header:
            problems.append(
                "no '-- PostgreSQL database dump' header in the first lines: not a pg_dump plain-SQL dump"
            )
        if not self.trailer:
            shown = " | ".join(self.last_lines[-3:]) or "(nothing)"
            problems.append(
                "no '-- PostgreSQL database dump complete' trailer at the end: the dump was cut short "
                f"(killed pg_dump, disk full, truncated copy); it ends with: {shown[:200]}"
            )
        if self.create_tables == 0 and self.copies == 0 and self.inserts == 0:
            problems.append("no CREATE TABLE, COPY or INSERT statement: the dump contains no tables")
        return problems

    @property
    def data_sections(self) -> int:
        return self.copies + self.inserts


class PlainSqlScanner:
    """A sink: `write(chunk)` repeatedly, then `finish()` for the scan."""

    def __init__(self) -> None:
        self.scan = PlainSqlScan()
        self.bytes_seen = 0
        self._head = bytearray()
        self._carry = b"\n"  # the last bytes before this chunk; a statement at the very start counts too
        self._tail = b""

    def write(self, data: bytes) -> int:
        if not data:
            return 0
        if len(self._head) < _HEAD_BYTES:
            self._head += data[: _HEAD_BYTES - len(self._head)]
        scan = self.scan
        if scan.copies == 0 or scan.inserts > 0:  # no data yet, or an INSERT-style dump (pg_dump --inserts)
            scan.create_tables += _count(_BEFORE_DATA["create_tables"], self._carry, data)
            scan.inserts += _count(_BEFORE_DATA["inserts"], self._carry, data)
        scan.copies += _count(_COPY, self._carry, data)
        self._carry = (self._carry + data[-_LONGEST:])[-_LONGEST:]
        self._tail = (self._tail + data[-_TAIL_BYTES:])[-_TAIL_BYTES:]
        self.bytes_seen += len(data)
        return len(data)

    def finish(self) -> PlainSqlScan:
        scan = self.scan
        head = bytes(self._head)
        scan.header = HEADER in head[:2048]
        found = _DUMPED_FROM.search(head)
        scan.dumped_from = found.group(1).decode("ascii", "replace") if found else None
        lines = [line.strip() for line in self._tail.decode("utf-8", "replace").splitlines()]
        meaningful = [line for line in lines if line and line != "--"]
        scan.last_lines = meaningful[-TRAILER_WINDOW_LINES:]
        scan.trailer = any(line.startswith(TRAILER.decode()) for line in scan.last_lines)
        return scan


def _count(pattern: bytes, before: bytes, data: bytes) -> int:
    """Occurrences in `data` plus those straddling the boundary with the bytes `before` it (counted once)."""
    edge = len(pattern) - 1
    return data.count(pattern) + (before[-edge:] + data[:edge]).count(pattern)


def peek_dumped_from(path: Path, *, gzip: bool) -> str | None:
    """The server version in a plain dump's header (`-- Dumped from database version X`), from its first
    bytes only (inflated when `gzip`); None when the header does not say. Picks a sandbox before the read."""
    with path.open("rb") as handle:
        raw = handle.read(1 << 16)
    return head_dumped_from(raw, gzip=gzip)


def head_dumped_from(raw: bytes, *, gzip: bool) -> str | None:
    """`peek_dumped_from` of a dump's first bytes already read (an object's head, from a bucket)."""
    try:
        head = zlib.decompressobj(wbits=31).decompress(raw, _HEAD_BYTES) if gzip else raw[:_HEAD_BYTES]
    except zlib.error:
        return None
    found = _DUMPED_FROM.search(head)
    return found.group(1).decode("ascii", "replace") if found else None
