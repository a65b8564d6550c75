"""SQLite backups: copied (and inflated) by the one read that hashes them, then `PRAGMA integrity_check` on the copy.

The live file is never opened by SQLite: opening can create journals or take locks on a database in use.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from opsverify.backups.magic import SQLITE_MAGIC
from opsverify.backups.stream import StreamResult, read_once

INTEGRITY_MAX_ERRORS = 20


@dataclass
class SqliteRead:
    stream: StreamResult
    copy: Path
    tables: list[str] = field(default_factory=list)
    integrity: list[str] = field(default_factory=list)
    error: str | None = None

    def defects(self) -> list[str]:
        if self.error:
            return [self.error]
        if self.integrity != ["ok"]:
            shown = "; ".join(self.integrity[:3])
            more = f" (+{len(self.integrity) - 3} more)" if len(self.integrity) > 3 else ""
            return [f"PRAGMA integrity_check failed: {shown}{more}: the database file is corrupt"]
        if not self.tables:
            return ["the database has no tables"]
        return []


class _CopySink:
    def __init__(self, path: Path) -> None:
        self._handle = path.open("wb")
        self.head = b""

    def write(self, data: bytes) -> None:
        if len(self.head) < len(SQLITE_MAGIC):
            self.head += data[: len(SQLITE_MAGIC)]
        self._handle.write(data)

    def close(self) -> None:
        self._handle.close()


def copy_and_check(path: Path, *, gzip: bool, workdir: Path, hash_file: bool = True) -> SqliteRead:
    """Copy `path` into `workdir` (inflating a .gz) in the hashing read, then check the copy."""
    copy = workdir / (path.name[:-3] if gzip and path.name.endswith(".gz") else path.name)
    sink = _CopySink(copy)
    try:
        stream = read_once(path, gzip=gzip, sinks=[sink], hash_file=hash_file)
    finally:
        sink.close()
    result = SqliteRead(stream, copy)
    if stream.gzip_error:
        result.error = stream.gzip_error
        return result
    if not sink.head.startswith(SQLITE_MAGIC):
        result.error = "no 'SQLite format 3' header: not an SQLite database file"
        return result
    check_database(copy, result)
    return result


def check_database(copy: Path, result: SqliteRead) -> None:
    """Fill `result.integrity` and `result.tables` from the copy."""
    try:
        connection = sqlite3.connect(f"file:{copy}?mode=ro&immutable=1", uri=True, timeout=5)
    except sqlite3.Error as exc:
        result.error = f"SQLite cannot open the copy: {exc}"
        return
    try:
        rows = connection.execute(f"PRAGMA integrity_check({INTEGRITY_MAX_ERRORS})").fetchall()
        result.integrity = [str(row[0]) for row in rows]
        result.tables = [
            str(row[0])
            for row in connection.execute("select name from sqlite_master where type = 'table' order by name")
        ]
    except sqlite3.DatabaseError as exc:
        result.error = f"PRAGMA integrity_check failed: {exc}: the database file is corrupt"
    finally:
        connection.close()
