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
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from opsverify.backups.pgtools import ErrorLog, client_tool, collect_lines
from opsverify.backups.sqlite_backup import SqliteRead, copy_and_check
from opsverify.backups.stream import Sink, StreamResult, read_once
from opsverify.drills.sandbox import client_environment
from opsverify.units import format_duration

Progress = Callable[[int], None]


class RestoreAborted(Exception):
    """The restoring program stopped reading (it exited); streaming stops."""


class RestoreStopped(Exception):
    """A sink found that the input must not be restored further (the message says why): the client is
    stopped before it reads on, and the restore fails with that reason."""


@dataclass
class RestoreResult:
    """How a restore went. `error` is the operator-facing reason when it failed."""

    program: str
    command: str = ""  # the client and its options as run (no connection string)
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
    """Writes to the client's stdin; when the client exits early: stop the read (`RestoreAborted`), or with
    `read_on` drop the rest so the other sinks (an integrity scan) still see the whole stream."""

    def __init__(
        self, process: subprocess.Popen[bytes], *, read_on: bool = False, timed_out: Callable[[], bool] = bool
    ) -> None:
        assert process.stdin is not None
        self._process = process
        self._stdin = process.stdin
        self._read_on = read_on
        self._timed_out = timed_out  # a client stopped at its timeout: no reading on
        self.closed = False
        self.written = 0

    def write(self, data: bytes) -> None:
        if self.closed:
            return
        try:
            self._stdin.write(data)
        except (BrokenPipeError, ConnectionResetError):
            if not self._read_on or self._timed_out():
                raise RestoreAborted from None
            self.closed = True
            return
        self.written += len(data)

    def kill(self) -> None:
        """Stop the client now, before it reads the end of its input."""
        self._process.kill()
        self._process.wait()


def restore_plain(
    path: Path,
    *,
    gzip: bool,
    database_url: str,
    client_bin: str | None,
    timeout: float,
    progress: Progress | None = None,
    inspectors: Sequence[Sink] = (),
    hash_file: bool = False,
    before_commit: Callable[[StreamResult], str | None] | None = None,
) -> RestoreResult:
    """Stream a plain SQL dump (inflating a .gz on the fly) into psql.

    One pass (the drill of a large dump): `inspectors` see the same inflated stream as psql, `hash_file`
    hashes the raw file in the same read, and `before_commit(stream)` judges the whole read before psql
    sees the end of its input (its single transaction commits only then): a reason stops the restore
    uncommitted, as does a gzip stream found broken midway.
    """
    psql = client_tool("psql", client_bin)
    conninfo, env = client_environment(database_url)
    command = [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-f", "-", "-d", conninfo]
    result = RestoreResult("psql", " ".join(["psql", *command[1:-2]]))
    with feed_client(command, env, result, timeout, read_on=before_commit is not None) as sink:
        stream = read_once(path, gzip=gzip, sinks=[sink, *inspectors], hash_file=hash_file, progress=progress)
        reason = stream.gzip_error
        if before_commit is not None:
            reason = before_commit(stream) or reason
        if reason:
            result.error = f"restore stopped: {reason}"
            sink.kill()  # before psql reads the end of its input: nothing is committed
    return result


@contextmanager
def feed_client(
    command: list[str], env: dict[str, str], result: RestoreResult, timeout: float, *, read_on: bool = False
) -> Iterator[_ProcessSink]:
    """Run a restoring client whose stdin the caller feeds through the yielded sink, under a watchdog.

    A client that stops reading ends the feed (`RestoreAborted`); an exception from the read kills the
    client before its stdin closes, so it never sees the end of its input (psql would commit). On leaving,
    `result` has the exit status, bytes fed, time, and the judged error.
    """
    started = time.monotonic()
    process = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env
    )
    assert process.stderr is not None
    reader = collect_lines(process.stderr, result.log)
    watchdog = _Watchdog(process, timeout)
    sink = _ProcessSink(process, read_on=read_on, timed_out=lambda: watchdog.fired)
    try:
        try:
            yield sink
        except RestoreAborted:
            pass
        except RestoreStopped as stop:
            result.error = f"restore stopped: {stop}"
            process.kill()
        except BaseException:
            process.kill()  # a read that failed midway must not let the client see the end of its input
            raise
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
    result = RestoreResult(
        "pg_restore", " ".join(["pg_restore", *(c for c in command[1:] if not c.startswith("--dbname="))])
    )
    command.append(str(path))
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
