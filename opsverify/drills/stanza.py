"""The pgBackRest drill's throwaway cluster: `pgbackrest restore` into a data directory of its own, PostgreSQL
started on it on a free loopback port (as the postgres user when running as root), recovery through the WAL
archive awaited, then the server stopped and the folder removed.

The restored cluster never archives (`--archive-mode=off`, `archive_mode=off`): a drill must not push WAL
into the repository it restores from. Its own pg_hba.conf (trust on the socket and 127.0.0.1 only) replaces
the production one, and settings that name production paths (data_directory, external_pid_file, the log
collector) are overridden; the settings recovery compares with the primary's (max_connections, ...) are not.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePath

import psycopg

from opsverify.backups.pgtools import ErrorLog
from opsverify.backups.sources.tool_run import error_lines, output_text
from opsverify.drills.local import LocalSandbox, find_server_bin
from opsverify.drills.restore import RestoreResult
from opsverify.drills.sandbox import (
    CONNECT_TIMEOUT,
    DRILL_PREFIX,
    SandboxError,
    SandboxUnavailable,
    first_line,
)
from opsverify.units import format_size

RECOVERY_SETTINGS = (
    "-c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c archive_mode=off "
    "-c hot_standby=on -c ssl=off -c logging_collector=off -c log_destination=stderr "
    "-c external_pid_file='' -c primary_conninfo='' -c shared_buffers=128MB"
)
DRILL_HBA = "local all all trust\nhost all all 127.0.0.1/32 trust\n"
_NO_SPACE = ("No space left on device", "[28]")
STOP_GRACE = 10.0  # seconds a server that dropped the connection gets to exit before it counts as running


@dataclass(frozen=True)
class StanzaRestore:
    """What `pgbackrest restore` is asked: the stanza, which backup (`backup_set`, else the newest), and a
    point in time to recover to (`target_time`, else the end of the WAL archive)."""

    program: str
    stanza: str
    config: str | None = None
    repo: int | None = None
    backup_set: str | None = None
    target_time: str | None = None
    timeout: float = 12 * 3600.0
    secrets: tuple[str, ...] = field(default=(), repr=False)

    def arguments(self, data_dir: PurePath, tablespaces: PurePath) -> list[str]:
        args = [f"--stanza={self.stanza}", "--log-level-console=warn", "--log-level-file=off"]
        if self.config:
            args.append(f"--config={self.config}")
        if self.repo is not None:
            args.append(f"--repo={self.repo}")
        if self.backup_set:
            args.append(f"--set={self.backup_set}")
        if self.target_time:
            args += ["--type=time", f"--target={self.target_time}", "--target-action=promote"]
        args += [
            f"--pg1-path={data_dir}",
            f"--tablespace-map-all={tablespaces}",
            "--archive-mode=off",
            "restore",
        ]
        return args

    def describe(self) -> str:
        """The command as shown in the evidence (no data directory: it is throwaway)."""
        chosen = f" --set={self.backup_set}" if self.backup_set else ""
        target = f" --type=time --target='{self.target_time}'" if self.target_time else ""
        return f"pgbackrest --stanza={self.stanza}{chosen}{target} restore"


class RecoveryWatch:
    """What the restored clusters (a local folder, a container) share: waiting until recovery ended and
    naming why it did not. A subclass gives the server's log, whether it runs, and the disk-full message."""

    archive_get_fix = (
        "the server could not fetch WAL with `pgbackrest archive-get`: the repository and config must be "
        "readable by the server's user (postgres)"
    )

    @property
    def admin_url(self) -> str:
        raise NotImplementedError

    def server_log_tail(self, lines: int = 5) -> str:
        raise NotImplementedError

    def _running(self) -> bool:
        raise NotImplementedError

    def disk_full(self, size: int) -> str:
        raise NotImplementedError

    def _restore_error(self, text: str, size: int) -> str:
        raise NotImplementedError

    def judge_restore(
        self, result: RestoreResult, settings: StanzaRestore, size: int, done: tuple[int | None, bytes, bytes]
    ) -> bool:
        """Fills `result` from a finished `pgbackrest restore` (exit status, stdout, stderr; a None status:
        stopped at its timeout); whether it restored."""
        code, out, err = done
        if code is None:
            result.timed_out = True
            result.error = (
                f"pgbackrest restore did not finish within {settings.timeout:g}s: raise restore.timeout "
                "(or restore.rto), or check that the repository answers"
            )
            return False
        result.returncode, result.bytes_streamed = code, size
        if code == 0:
            return True
        text = output_text(err + b"\n" + out, settings.secrets)
        result.log = ErrorLog()
        for line in text.splitlines()[:50]:
            result.log.add(line)
        result.error = self._restore_error(text, size)
        return False

    def wait_for_recovery(self, timeout: float) -> str:
        """Until recovery ended (the server promoted itself); returns the last replayed transaction's time."""
        deadline = time.monotonic() + timeout
        while True:
            state = self._recovery_state()
            if state is not None and state[0] is False:
                return state[1]
            if state is not None and state[2] == "paused":
                raise SandboxError(self._server_failure("recovery paused instead of finishing", pause=True))
            if time.monotonic() > deadline:
                raise SandboxError(
                    f"recovery did not finish within {timeout:g}s: raise pgbackrest.recovery_timeout "
                    f"(server log: {self.server_log_tail(3)})"
                )
            time.sleep(0.2)

    def _recovery_state(self) -> tuple[bool, str, str] | None:
        try:
            with psycopg.connect(self.admin_url, connect_timeout=CONNECT_TIMEOUT, autocommit=True) as conn:
                row = conn.execute(
                    "select pg_is_in_recovery(), coalesce(pg_last_xact_replay_timestamp()::text, ''), "
                    "case when pg_is_in_recovery() then pg_get_wal_replay_pause_state() else '' end"
                ).fetchone()
        except psycopg.Error as exc:
            if not self._running():
                raise SandboxError(self._server_failure("the server stopped during recovery")) from None
            if any(state in str(exc) for state in ("starting up", "not yet accepting", "shutting down")):
                return None
            if self._stopped_within(STOP_GRACE):  # a server ending recovery with a FATAL closes the socket
                raise SandboxError(self._server_failure("the server stopped during recovery")) from None
            raise SandboxError(f"cannot connect to the restored cluster: {first_line(exc)}") from None
        assert row is not None
        return bool(row[0]), str(row[1]), str(row[2])

    def _stopped_within(self, seconds: float) -> bool:
        """Whether the server exits within `seconds`: a refused or dropped connection while it shuts down
        after a failed recovery is that failure, not a network problem."""
        deadline = time.monotonic() + seconds
        while self._running():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True

    def _server_failure(self, what: str, pause: bool = False) -> str:
        log = self.server_log_tail(8)
        if any(mark in log for mark in _NO_SPACE):
            return f"recovery failed: {self.disk_full(0)}"
        hints = [
            (
                "recovery ended before configured recovery target was reached",
                "the WAL archive ends before pgbackrest.target_time: choose an earlier time, or find why "
                "archiving stopped",
            ),
            (
                "before consistent recovery point",
                "pgbackrest.target_time is before the backup was consistent: choose a later time or an older set",
            ),
            ("archive-get", self.archive_get_fix),
            ("insufficient parameter settings", "a setting is lower here than on the primary: see the log"),
        ]
        fix = next((hint for mark, hint in hints if mark in log), "see the server log")
        if pause and fix == "see the server log":
            fix = "a setting of the backup paused recovery: see the server log"
        lines = " | ".join(line.strip() for line in log.splitlines()[-4:])
        return f"{what}: {fix} (server log: {lines or 'empty'})"


class StanzaCluster(LocalSandbox, RecoveryWatch):
    """A PostgreSQL cluster restored by pgBackRest into a folder of its own (in `work_dir`, else the system's
    temporary folder), started on a free port of 127.0.0.1."""

    kind = "local"
    server_settings = RECOVERY_SETTINGS

    def __init__(self, server_bin: str | None = None, work_dir: str | None = None, version: str = "") -> None:
        super().__init__(server_bin, version or "15")
        self.work_dir = work_dir

    def describe(self) -> str:
        return f"restored cluster 127.0.0.1:{self.port} ({self.workdir})"

    def url_of(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def prepare(self) -> None:
        """The folder, owned by the server's user; the server binaries found (before anything is restored)."""
        self.bindir = find_server_bin(self.server_bin, self.dumped_from)
        run_as = self._run_as()
        parent = Path(self.work_dir).expanduser() if self.work_dir else Path(tempfile.gettempdir())
        if not parent.is_dir():
            raise SandboxUnavailable(
                f"pgbackrest.work_dir {parent} is not a folder: create it, or point work_dir at one"
            )
        self.workdir = Path(tempfile.mkdtemp(prefix=DRILL_PREFIX, dir=parent))
        self.data_dir.mkdir(mode=0o700)
        (self.workdir / "tablespaces").mkdir(mode=0o700)
        if run_as:
            for path in (self.workdir, self.data_dir, self.workdir / "tablespaces"):
                os.chown(path, int(str(run_as["user"])), int(str(run_as["group"])))

    def restore(self, settings: StanzaRestore, size: int) -> RestoreResult:
        """`pgbackrest restore` into the folder; `size` (the database's) names what a full disk must hold."""
        assert self.workdir is not None
        result = RestoreResult("pgbackrest", settings.describe())
        started = time.monotonic()
        try:
            completed = subprocess.run(
                [settings.program, *settings.arguments(self.data_dir, self.workdir / "tablespaces")],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=settings.timeout,
                check=False,
            )
            done: tuple[int | None, bytes, bytes] = (completed.returncode, completed.stdout, completed.stderr)
        except subprocess.TimeoutExpired:
            done = (None, b"", b"")
        finally:
            result.seconds = time.monotonic() - started
        if not self.judge_restore(result, settings, size, done):
            return result
        self._own_files()
        self._write_configs()
        return result

    def _restore_error(self, text: str, size: int) -> str:
        if any(mark in text for mark in _NO_SPACE) or ("unable to write" in text and self._short_of(size)):
            return self.disk_full(size)
        return f"pgbackrest restore failed: {error_lines(text)}"

    def _short_of(self, size: int) -> bool:
        """Whether the folder's filesystem has less room left than the database needs (pgBackRest's write
        error does not always say the disk is full)."""
        assert self.workdir is not None
        try:
            return shutil.disk_usage(self.workdir).free < size
        except OSError:
            return False

    def disk_full(self, size: int) -> str:
        """The message of a restore (or recovery) that ran out of disk: the folder, what it needs, the fix."""
        assert self.workdir is not None
        folder = self.workdir.parent
        try:
            usage = shutil.disk_usage(folder)
            room = f"{format_size(usage.free)} free of {format_size(usage.total)}"
        except OSError:
            room = "free space unknown"
        return (
            f"the restore ran out of disk space in {folder} ({room}); "
            + (f"the database is {format_size(size)} and " if size else "")
            + "recovery adds WAL: free space there, or set pgbackrest.work_dir to a folder on a filesystem "
            "with room for it"
        )

    def _own_files(self) -> None:
        """As root, pgBackRest restores the owners of the backup's manifest: make them the server's user."""
        run_as = self._run_as()
        if not run_as:
            return
        uid, gid = int(str(run_as["user"])), int(str(run_as["group"]))
        assert self.workdir is not None
        for root, dirs, files in os.walk(self.workdir):
            for name in [*dirs, *files]:
                path = os.path.join(root, name)
                if os.lstat(path).st_uid != uid:
                    os.chown(path, uid, gid, follow_symlinks=False)

    def _write_configs(self) -> None:
        """The drill's own pg_hba/pg_ident (outside the data directory), and an empty postgresql.conf when
        the backup has none (Debian keeps it in /etc)."""
        assert self.workdir is not None
        workdir = self.workdir
        (workdir / "pg_hba.conf").write_text(DRILL_HBA)
        (workdir / "pg_ident.conf").write_text("")
        created = [workdir / "pg_hba.conf", workdir / "pg_ident.conf"]
        if not (self.data_dir / "postgresql.conf").exists():
            (self.data_dir / "postgresql.conf").write_text("")
            created.append(self.data_dir / "postgresql.conf")
        run_as = self._run_as()
        for path in created:
            if run_as:
                os.chown(path, int(str(run_as["user"])), int(str(run_as["group"])))
        self.server_settings = (
            f"{RECOVERY_SETTINGS} -c hba_file={workdir}/pg_hba.conf -c ident_file={workdir}/pg_ident.conf "
            f"-c data_directory={self.data_dir}"
        )

    def start_server(self, timeout: float) -> None:
        """pg_ctl start, waiting (up to `timeout`) until the server accepts connections: recovery reached a
        consistent state. SandboxError with the server log's last lines when it does not."""
        self.start_timeout = timeout
        try:
            self._start_server(self._run_as())
        except SandboxUnavailable as exc:
            raise SandboxError(self._server_failure(str(exc))) from None

    def _running(self) -> bool:
        pid = self.postmaster_pid
        if pid is None:
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return (self.data_dir / "postmaster.pid").exists()
