"""pg_dump custom (-Fc) and directory (-Fd) archives: a full read through `pg_restore -f -`.

`pg_restore --list` only reads the table of contents and passes truncated and corrupted archives, so every
data block is decompressed here; its SQL output goes through the plain-SQL scanner. A custom archive is
streamed to pg_restore's stdin by the same read that hashes it.

A restore drill of a large custom archive does not read it twice: `list_archive` hashes the file and reads
its table of contents beside the restore, and the restoring pg_restore reads and decompresses every data
block; a block it cannot read fails the restore, and `archive_read_error` tells such a failure apart from a
database error, so the drill reports it as the integrity problem it is.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from opsverify.backups.pgtools import ErrorLog, ToolMissing, client_tool, collect_lines, tool_version
from opsverify.backups.plain_sql import PlainSqlScan, PlainSqlScanner
from opsverify.backups.stream import CHUNK_SIZE, StreamResult, read_once


@dataclass
class ArchiveRead:
    """What reading an archive through pg_restore established."""

    stream: StreamResult
    scan: PlainSqlScan
    sql_bytes: int
    returncode: int
    log: ErrorLog
    pg_restore_version: str

    def defects(self) -> list[str]:
        if self.returncode != 0:
            first = "; ".join(self.log.errors(2)) or f"exit status {self.returncode}"
            return [f"pg_restore cannot read the archive: {first}{self._hint()}"]
        return self.scan.defects(self.sql_bytes)

    def _hint(self) -> str:
        return archive_hint(self.log.text(), self.pg_restore_version)


class _PipeSink:
    """Writes into pg_restore's stdin; once it has exited (broken pipe) the rest is dropped, still hashed."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdin is not None
        self._stdin = process.stdin
        self.closed = False

    def write(self, data: bytes) -> None:
        if self.closed:
            return
        try:
            self._stdin.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.closed = True

    def close(self) -> None:
        """Close pg_restore's stdin, also after a broken pipe (the file object is still open then)."""
        self.closed = True
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._stdin.close()


def read_archive(
    path: Path, *, directory: bool, client_bin: str | None = None, hash_file: bool = True
) -> ArchiveRead:
    """Decompress every block of the archive once; a custom archive is also hashed by the same read."""
    pg_restore = client_tool("pg_restore", client_bin)
    command = [pg_restore, "--file=-", *([str(path)] if directory else [])]
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL if directory else subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    scanner, log = PlainSqlScanner(), ErrorLog()
    readers = [_scan_output(process.stdout, scanner), collect_lines(process.stderr, log)]
    stream = StreamResult()
    try:
        if not directory:
            sink = _PipeSink(process)
            try:
                stream = read_once(path, gzip=False, sinks=[sink], hash_file=hash_file)
            finally:
                sink.close()
        returncode = process.wait()
        for reader in readers:
            reader.join()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    if directory:
        stream.bytes_read = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return ArchiveRead(
        stream, scanner.finish(), scanner.bytes_seen, returncode, log, tool_version(pg_restore)
    )


def _scan_output(stdout: IO[bytes], scanner: PlainSqlScanner) -> threading.Thread:
    def run() -> None:
        while chunk := stdout.read(CHUNK_SIZE):
            scanner.write(chunk)
        stdout.close()

    thread = threading.Thread(target=run, name="opsverify-pg-restore-out", daemon=True)
    thread.start()
    return thread


@dataclass
class ArchiveList:
    """What hashing a custom archive and reading its table of contents (`pg_restore --list`) established;
    the data blocks are left to the restore that reads them."""

    stream: StreamResult
    returncode: int
    log: ErrorLog
    pg_restore_version: str
    tables: int = 0
    table_data: int = 0
    dumped_from: str | None = None

    def defects(self) -> list[str]:
        if self.returncode != 0:
            first = "; ".join(self.log.errors(2)) or f"exit status {self.returncode}"
            return [
                f"pg_restore cannot read the archive: {first}{archive_hint(self.log.text(), self.pg_restore_version)}"
            ]
        if self.tables == 0 and self.table_data == 0:
            return ["no CREATE TABLE, COPY or INSERT statement: the dump contains no tables"]
        return []


LIST_TIMEOUT = 300.0  # seconds `pg_restore --list` may take to read a table of contents (a large archive)
VERSION_TIMEOUT = 60.0  # the same, when only the dumped-from version is wanted (choosing a sandbox)

_TOC_LINE = re.compile(r"^\d+; \d+ \d+ (.+)$")


def list_archive(
    path: Path, *, client_bin: str | None = None, hash_file: bool = True, timeout: float = LIST_TIMEOUT
) -> ArchiveList:
    """Hash a custom archive (one read, no decompression) and count the tables in its table of contents."""
    pg_restore = client_tool("pg_restore", client_bin)
    log = ErrorLog()
    try:
        completed = subprocess.run(  # errors= opens the pipes in text mode
            [pg_restore, "--list", str(path)],
            capture_output=True,
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        log.add(f"pg_restore: error: reading the table of contents took more than {timeout:g} s")
        returncode, stdout = 1, ""
    else:
        returncode, stdout = completed.returncode, completed.stdout
        for line in completed.stderr.splitlines():
            log.add(line)
    listed = ArchiveList(StreamResult(), returncode, log, tool_version(pg_restore))
    for line in stdout.splitlines():
        entry = _TOC_LINE.match(line)
        if entry is None:
            if line.startswith(";") and "Dumped from database version:" in line:
                listed.dumped_from = line.split(":", 1)[1].strip() or None
            continue
        description = entry.group(1)
        if description.startswith("TABLE DATA "):
            listed.table_data += 1
        elif description.startswith("TABLE "):
            listed.tables += 1
    if hash_file:
        listed.stream = read_once(path, gzip=False, sinks=[], hash_file=True)
    else:
        listed.stream.bytes_read = path.stat().st_size
    return listed


# What pg_restore says when it cannot read its input (as opposed to a database refusing a statement).
_READ_ERRORS = (
    "could not read input file",
    "could not read from input file",
    "end of file",
    "could not uncompress data",
    "could not find block id",
    "corrupt",
    "did not find magic string",
    "unsupported version",
    "unrecognized data block type",
    "unexpected end",
    "could not decompress",
    "invalid compression",
)


def archive_read_error(log: ErrorLog, pg_restore_version: str = "") -> str | None:
    """The defect to report when a restoring pg_restore failed because it could not read the archive."""
    errors = [line for line in log.errors(4) if "could not execute query" not in line]
    if not any(marker in line.lower() for line in errors for marker in _READ_ERRORS):
        return None
    return f"pg_restore cannot read the archive: {'; '.join(errors[:2])}{archive_hint(log.text(), pg_restore_version)}"


def archive_hint(text: str, pg_restore_version: str) -> str:
    """Why pg_restore could not read an archive, from its messages."""
    if "unsupported version" in text:
        return (
            f" (this pg_restore {pg_restore_version} is older than the pg_dump that wrote the archive; "
            "install a newer client or set client_bin)"
        )
    if "end of file" in text or "unexpected end" in text:
        return (
            " (the archive ends early: it is truncated (dump cut short, incomplete copy) or corrupt "
            "(a damaged block length points past its end))"
        )
    if "uncompress" in text or "corrupt" in text or "invalid" in text:
        return " (the archive is corrupt: damaged blocks; restore an older backup and check the storage)"
    return ""


def archive_dumped_from(
    path: Path, client_bin: str | None = None, timeout: float = VERSION_TIMEOUT
) -> str | None:
    """The server version a custom archive was dumped from, from its table of contents (`pg_restore --list`
    reads only that); None when it cannot tell. Picks a sandbox before the archive is read."""
    try:
        completed = subprocess.run(  # errors= opens the pipes in text mode
            [client_tool("pg_restore", client_bin), "--list", str(path)],
            capture_output=True,
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired, ToolMissing):
        return None
    found = re.search(r"Dumped from database version: (\S+)", completed.stdout)
    return found.group(1) if found else None
