"""Restoring a backup into the sandbox, streamed: no temporary copy of the inflated dump is ever written.

Plain SQL goes through psql with ON_ERROR_STOP=1 in a single transaction (without ON_ERROR_STOP psql
exits 0 after errors, e.g. a missing role); custom and directory archives through pg_restore
--exit-on-error with --jobs. Any error fails the restore with the first error lines.
"""

from __future__ import annotations

import os
import subprocess
import tarfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from opsverify.backups.pgtools import ErrorLog, client_tool, collect_lines
from opsverify.backups.sqlite_backup import SqliteRead, copy_and_check
from opsverify.backups.stream import read_once
from opsverify.drills.sandbox import client_environment
from opsverify.units import format_duration

Progress = Callable[[int], None]


class RestoreAborted(Exception):
    """The restoring program stopped reading (it exited); streaming stops."""


@dataclass
class RestoreResult:
    """How a restore went. `error` is the operator-facing reason when it failed."""

    program: str
    returncode: int | None = None
    seconds: float = 0.0
    bytes_streamed: int = 0
    log: ErrorLog = field(default_factory=ErrorLog)
    error: str | None = None
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


class _ProcessSink:
    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdin is not None
        self._stdin = process.stdin
        self.written = 0

    def write(self, data: bytes) -> None:
        try:
            self._stdin.write(data)
        except (BrokenPipeError, ConnectionResetError):
            raise RestoreAborted from None
        self.written += len(data)


def restore_plain(
    path: Path,
    *,
    gzip: bool,
    database_url: str,
    client_bin: str | None,
    timeout: float,
    progress: Progress | None = None,
) -> RestoreResult:
    """Stream a plain SQL dump (inflating a .gz on the fly) into psql."""
    psql = client_tool("psql", client_bin)
    conninfo, env = client_environment(database_url)
    command = [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-f", "-", "-d", conninfo]
    result = RestoreResult("psql")
    started = time.monotonic()
    process = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env
    )
    assert process.stderr is not None
    assert process.stdin is not None
    reader = collect_lines(process.stderr, result.log)
    watchdog = _Watchdog(process, timeout)
    sink = _ProcessSink(process)
    try:
        try:
            stream = read_once(path, gzip=gzip, sinks=[sink], hash_file=False, progress=progress)
            if stream.gzip_error:
                result.error = f"restore stopped: {stream.gzip_error}"
        except RestoreAborted:
            pass
        finally:
            _close_quietly(process)
        result.returncode = process.wait()
        reader.join()
    finally:
        watchdog.cancel()
        _kill(process)
    result.bytes_streamed = sink.written
    result.seconds = time.monotonic() - started
    result.timed_out = watchdog.fired
    _judge(result, timeout)
    return result


def restore_archive(
    path: Path,
    *,
    database_url: str,
    client_bin: str | None,
    jobs: int,
    no_owner: bool,
    timeout: float,
    started_hook: Callable[[subprocess.Popen[bytes]], None] | None = None,
) -> RestoreResult:
    """pg_restore a custom or directory archive with --exit-on-error and --jobs (it reads the file itself)."""
    pg_restore = client_tool("pg_restore", client_bin)
    conninfo, env = client_environment(database_url)
    command = [pg_restore, "--exit-on-error", f"--jobs={jobs}", f"--dbname={conninfo}"]
    if no_owner:
        command += ["--no-owner", "--no-privileges"]
    command.append(str(path))
    result = RestoreResult("pg_restore")
    started = time.monotonic()
    process = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env
    )
    assert process.stderr is not None
    reader = collect_lines(process.stderr, result.log)
    watchdog = _Watchdog(process, timeout)
    try:
        if started_hook is not None:
            started_hook(process)
        result.returncode = process.wait()
        reader.join()
    finally:
        watchdog.cancel()
        _kill(process)
    result.bytes_streamed = _size(path)
    result.seconds = time.monotonic() - started
    result.timed_out = watchdog.fired
    _judge(result, timeout)
    return result


def _judge(result: RestoreResult, timeout: float) -> None:
    if result.timed_out:
        result.error = (
            f"restore did not finish within {format_duration(timeout)} and was stopped "
            "(restore.timeout; default 2 x rto or 12h)"
        )
        return
    if result.returncode == 0 and result.error is None:
        return
    errors = result.log.errors(4)
    shown = " | ".join(errors) if errors else "no error output"
    reason = result.error or f"{result.program} exited with status {result.returncode}"
    result.error = f"restore failed ({reason}): {shown}{_hint(result.log.text())}"


def _hint(text: str) -> str:
    if "role" in text and "does not exist" in text:
        return (
            " — the dump references a role the sandbox does not have: create the role in the sandbox, dump "
            "with --no-owner --no-privileges, or (custom/directory format) set restore.no_owner: true"
        )
    if any(
        s in text for s in ("server closed the connection", "terminating connection", "connection to server")
    ):
        return " — the sandbox server went away during the restore (crashed, killed, or out of memory/disk)"
    if "already exists" in text:
        return " — the dump creates objects that already exist: was it made with --create, or restored twice?"
    return ""


class _Watchdog:
    """Kills a process that runs past its deadline."""

    def __init__(self, process: subprocess.Popen[bytes], timeout: float) -> None:
        self.fired = False
        self._process = process
        self._timer = threading.Timer(timeout, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        if self._process.poll() is None:
            self.fired = True
            self._process.kill()

    def cancel(self) -> None:
        self._timer.cancel()


def _close_quietly(process: subprocess.Popen[bytes]) -> None:
    try:
        if process.stdin is not None:
            process.stdin.close()
    except (BrokenPipeError, ConnectionResetError):
        pass


def _kill(process: subprocess.Popen[bytes]) -> None:
    """Make sure the restoring program is gone (teardown after Ctrl-C, SIGTERM or an error)."""
    if process.poll() is None:
        process.kill()
        process.wait()
    if process.stderr is not None:
        process.stderr.close()
    if process.stdin is not None:
        _close_quietly(process)


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def restore_sqlite(path: Path, *, gzip: bool, workdir: Path) -> tuple[RestoreResult, SqliteRead]:
    """SQLite 'restore': a copy in `workdir` (inflated when .gz) that passes PRAGMA integrity_check."""
    started = time.monotonic()
    read = copy_and_check(path, gzip=gzip, workdir=workdir, hash_file=False)
    result = RestoreResult("sqlite copy", returncode=0, bytes_streamed=read.stream.bytes_read)
    defects = read.defects()
    if defects:
        result.error = f"restored copy is not usable: {defects[0]}"
    result.seconds = time.monotonic() - started
    return result, read


def restore_files(path: Path, *, workdir: Path) -> tuple[RestoreResult, int]:
    """Extract a tar archive into `workdir` with tarfile's `data` filter (no escapes, no devices, no setuid)."""
    started = time.monotonic()
    result = RestoreResult("tar extract", returncode=0, bytes_streamed=_size(path))
    try:
        with tarfile.open(path, mode="r:*") as archive:
            archive.extractall(workdir, filter="data")
    except (tarfile.TarError, EOFError, OSError) as exc:
        result.error = f"extracting the archive failed: {exc}"
    files = count_files(workdir)
    result.seconds = time.monotonic() - started
    return result, files


def count_files(directory: Path) -> int:
    return sum(len(names) for _root, _dirs, names in os.walk(directory))
