"""Inspector of mysqldump / mariadb-dump SQL text, fed in chunks: header, `-- Dump completed on` trailer,
CREATE TABLE / INSERT counts and the databases the dump is of (the header's `Database:` and every `USE`).

One pass, bounded memory: the head (8 KiB) and tail (4 KiB) are kept, patterns are counted across chunk
boundaries, and at most MAX_DATABASES database names are remembered.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field

HEADERS = (b"-- MySQL dump ", b"-- MariaDB dump ")
SANDBOX_LINE = (
    b"/*M!999999"  # mariadb-dump 10.5.25+/10.11.8+ first writes `/*M!999999\- enable the sandbox mode */`
)
TRAILER = "-- Dump completed"
TRAILER_WINDOW_LINES = 4
MAX_DATABASES = 50
_HEAD_BYTES = 8192
_TAIL_BYTES = 4096
_SERVER_VERSION = re.compile(rb"-- Server version\s+(\S+)")
_HEADER_DATABASE = re.compile(rb"-- Host: \S*\s+Database: ([^\r\n]*)")
_CREATE_TABLE = b"\nCREATE TABLE "
_INSERT = b"\nINSERT INTO "
_USE = b"\nUSE `"
_USE_LINE = re.compile(rb"\nUSE `((?:[^`\n]|``){1,192})`;")
_LONGEST = max(len(p) for p in (_CREATE_TABLE, _INSERT))
_MAX_NAME = 256  # a database name is at most 64 characters; `USE` lines are short


@dataclass
class MysqlDumpScan:
    """What the SQL text holds."""

    header: bool = False
    trailer: bool = False
    create_tables: int = 0
    inserts: int = 0
    server_version: str | None = None  # `-- Server version 10.11.19-MariaDB`
    databases: list[str] = field(default_factory=list)  # from the header and USE statements, in order
    last_lines: list[str] = field(default_factory=list)

    def defects(self, bytes_seen: int) -> list[str]:
        """Format problems: not a mysqldump, cut short, or no tables (the database is the verdict's to judge)."""
        if bytes_seen == 0:
            return ["the dump is empty (0 bytes of SQL): the dump command produced no output; check its log"]
        problems = []
        if not self.header:
            problems.append(
                "no '-- MySQL dump' / '-- MariaDB dump' header in the first line: not a mysqldump or "
                "mariadb-dump output"
            )
        if not self.trailer:
            shown = " | ".join(self.last_lines[-3:]) or "(nothing)"
            problems.append(
                "no '-- Dump completed on' trailer at the end: the dump was cut short (killed mysqldump, disk "
                f"full, truncated copy) or made with --skip-dump-date/--skip-comments; it ends with: {shown[:200]}"
            )
        if self.create_tables == 0 and self.inserts == 0:
            problems.append("no CREATE TABLE or INSERT statement: the dump contains no tables")
        return problems


class MysqlDumpScanner:
    """A sink: `write(chunk)` repeatedly, then `finish()` for the scan."""

    def __init__(self) -> None:
        self.scan = MysqlDumpScan()
        self.bytes_seen = 0
        self._head = bytearray()
        self._carry = b"\n"  # the bytes before this chunk; a statement at the very start counts too
        self._tail = b""
        self._use_carry = b"\n"  # the last bytes before this chunk, for `USE` statements across the boundary

    def write(self, data: bytes) -> int:
        if not data:
            return 0
        if len(self._head) < _HEAD_BYTES:
            self._head += data[: _HEAD_BYTES - len(self._head)]
        use_seen = self._count_statements(data)
        if use_seen or _USE in self._use_carry + data[: len(_USE)]:
            # A statement cut by the chunk boundary is found whole in the next chunk, after the carry.
            self._uses(self._use_carry + data)
        self._use_carry = (self._use_carry + data[-_MAX_NAME:])[-_MAX_NAME:]
        self._carry = (self._carry + data[-_LONGEST:])[-_LONGEST:]
        self._tail = (self._tail + data[-_TAIL_BYTES:])[-_TAIL_BYTES:]
        self.bytes_seen += len(data)
        return len(data)

    def _count_statements(self, data: bytes) -> bool:
        """Add the CREATE TABLE and INSERT statements starting in `data` (or across its start); whether a
        `USE` statement starts in it. The data of a dump is long extended-INSERT lines, so walking its few
        newlines (memchr) is one fast pass; short-line text (--skip-extended-insert) is counted by pattern."""
        scan, carry = self.scan, self._carry
        scan.create_tables += _across(_CREATE_TABLE, carry, data)
        scan.inserts += _across(_INSERT, carry, data)
        if data.count(b"\n") > len(data) >> 9:  # short lines: three counting passes beat a Python loop
            scan.create_tables += data.count(_CREATE_TABLE)
            scan.inserts += data.count(_INSERT)
            return _USE in data
        use_seen = False
        find, startswith = data.find, data.startswith
        position = find(b"\n")
        while position != -1:
            start = position + 1
            if startswith(b"INSERT INTO ", start):
                scan.inserts += 1
            elif startswith(b"CREATE TABLE ", start):
                scan.create_tables += 1
            elif startswith(b"USE `", start):
                use_seen = True
            position = find(b"\n", start)
        return use_seen

    def _uses(self, text: bytes) -> None:
        names = self.scan.databases
        for found in _USE_LINE.finditer(text):
            name = found.group(1).replace(b"``", b"`").decode("utf-8", "replace")
            if name not in names and len(names) < MAX_DATABASES:
                names.append(name)

    def finish(self) -> MysqlDumpScan:
        scan = self.scan
        head = bytes(self._head)
        scan.header = starts_with_header(head)
        version = _SERVER_VERSION.search(head[:2048])
        scan.server_version = version.group(1).decode("ascii", "replace") if version else None
        database = _HEADER_DATABASE.search(head[:2048])
        if database and database.group(1).strip():
            name = database.group(1).strip().decode("utf-8", "replace")
            if name not in scan.databases:
                scan.databases.insert(0, name)
        lines = [line.strip() for line in self._tail.decode("utf-8", "replace").splitlines()]
        scan.last_lines = [line for line in lines if line and line != "--"][-TRAILER_WINDOW_LINES:]
        scan.trailer = any(line.startswith(TRAILER) for line in scan.last_lines)
        return scan


def head_server_version(raw: bytes, *, gzip: bool) -> str | None:
    """The `-- Server version` of a dump's first bytes already read (an object's head, from a bucket)."""
    try:
        head = zlib.decompressobj(wbits=31).decompress(raw, _HEAD_BYTES) if gzip else raw[:_HEAD_BYTES]
    except zlib.error:
        return None
    version = _SERVER_VERSION.search(head[:2048])
    return version.group(1).decode("ascii", "replace") if version else None


def starts_with_header(head: bytes) -> bool:
    """The text starts with a mysqldump/mariadb-dump header (after mariadb-dump's sandbox-mode line)."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(SANDBOX_LINE):
        text = text.partition(b"\n")[2].lstrip(b" \t\r\n")
    return text.startswith(HEADERS)


def _across(pattern: bytes, before: bytes, data: bytes) -> int:
    """Occurrences straddling the boundary between the bytes `before` and `data` (not wholly in `data`)."""
    edge = len(pattern) - 1
    return (before[-edge:] + data[:edge]).count(pattern)
