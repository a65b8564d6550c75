"""The `local` sandbox: initdb + pg_ctl in a temporary folder on a free port, torn down after the drill.

As root the server runs as the `postgres` system user (PostgreSQL refuses to run as root). The server is
tuned for a throwaway (fsync off) and listens on 127.0.0.1 only, with trust authentication.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from opsverify.drills.sandbox import DRILL_PREFIX, REAP_AFTER_SECONDS, Sandbox, SandboxUnavailable

SERVER_USER = "postgres"
START_TIMEOUT = 60
_DEBIAN_ROOT = Path("/usr/lib/postgresql")
_SETTINGS = (
    "-c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c synchronous_commit=off "
    "-c max_wal_size=2GB -c checkpoint_timeout=30min -c max_connections=40"
)


def _major(version: str | None) -> int | None:
    match = re.match(r"(\d+)(?:\.(\d+))?", version or "")
    if not match:
        return None
    major = int(match.group(1))
    return major if major >= 10 else None  # 9.x dumps restore into any newer server


def find_server_bin(server_bin: str | None = None, dumped_from: str | None = None) -> Path:
    """Folder with initdb and pg_ctl: `server_bin`, else `pg_config --bindir`, else /usr/lib/postgresql/<N>/bin.

    Among several installed versions the dump's major version is preferred, then the newest (a newer server
    restores an older dump).
    """
    if server_bin:
        folder = Path(server_bin).expanduser()
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
        raise SandboxUnavailable(f"initdb/pg_ctl not found in server_bin {folder}")
    candidates: list[Path] = []
    if _DEBIAN_ROOT.is_dir():
        versions = sorted(
            (p for p in _DEBIAN_ROOT.iterdir() if p.name.replace(".", "").isdigit()),
            key=lambda p: float(p.name),
            reverse=True,
        )
        wanted = _major(dumped_from)
        preferred = [p for p in versions if wanted is not None and p.name == str(wanted)]
        newer = [p for p in versions if wanted is None or float(p.name) >= wanted]
        candidates += [p / "bin" for p in dict.fromkeys([*preferred, *newer])]
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            bindir = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=False
            ).stdout.strip()
            if bindir:
                candidates.append(Path(bindir))
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    raise SandboxUnavailable(
        "initdb/pg_ctl not found (looked in /usr/lib/postgresql/*/bin and pg_config --bindir); install the "
        "PostgreSQL server (apt-get install postgresql-15) or set restore.server_bin"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalSandbox(Sandbox):
    """A PostgreSQL cluster of its own in a temporary folder."""

    kind = "local"
    disposable = True
    server_settings = _SETTINGS
    start_timeout: float = START_TIMEOUT

    def __init__(self, server_bin: str | None = None, dumped_from: str | None = None) -> None:
        self.server_bin = server_bin
        self.dumped_from = dumped_from
        self.workdir: Path | None = None
        self.port = 0
        self.postmaster_pid: int | None = None
        self.bindir: Path | None = None

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def data_dir(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "data"

    def describe(self) -> str:
        return f"local sandbox 127.0.0.1:{self.port} ({self.workdir})"

    def _run_as(self) -> dict[str, object]:
        if os.geteuid() != 0:
            return {}
        try:
            user = pwd.getpwnam(SERVER_USER)
        except KeyError:
            raise SandboxUnavailable(
                f"running as root and there is no {SERVER_USER!r} system user to run the server as "
                "(install the postgresql package, or run opsverify as an unprivileged user)"
            ) from None
        return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}

    def start(self) -> None:
        self.bindir = find_server_bin(self.server_bin, self.dumped_from)
        run_as = self._run_as()
        self.workdir = Path(tempfile.mkdtemp(prefix=DRILL_PREFIX))
        try:
            if run_as:
                os.chown(self.workdir, int(str(run_as["user"])), int(str(run_as["group"])))
            self._initdb(run_as)
            self._start_server(run_as)
        except BaseException:
            self.stop()
            raise

    def _initdb(self, run_as: dict[str, object]) -> None:
        assert self.bindir is not None
        assert self.workdir is not None
        command = [str(self.bindir / "initdb"), "-D", str(self.data_dir), "-U", "postgres", "--auth=trust"]
        command += ["--encoding=UTF8", "--no-locale", "--no-sync", "--no-instructions"]
        completed = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=self.workdir,
            **run_as,  # type: ignore[call-overload]
        )
        if completed.returncode != 0:
            raise SandboxUnavailable(f"initdb failed: {_tail(completed.stderr or completed.stdout)}")

    def _start_server(self, run_as: dict[str, object]) -> None:
        assert self.bindir is not None
        assert self.workdir is not None
        last_error = ""
        for _attempt in range(3):  # the free port may be taken between choosing and binding it
            self.port = free_port()
            options = f"{self.server_settings} -p {self.port} -c unix_socket_directories={self.workdir}"
            command = [
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(self.workdir / "server.log"),
            ]
            command += ["-w", "-t", str(int(self.start_timeout)), "-o", options, "start"]
            completed = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=self.start_timeout + 30,
                check=False,
                cwd=self.workdir,
                start_new_session=True,  # Ctrl-C in the terminal must not reach the server before teardown
                **run_as,  # type: ignore[call-overload]
            )
            if completed.returncode == 0:
                self.postmaster_pid = _postmaster_pid(self.data_dir)
                return
            last_error = self.server_log_tail() or completed.stderr
            if "already in use" not in last_error:
                break
        raise SandboxUnavailable(f"pg_ctl start failed: {_tail(last_error)}")

    def server_log_tail(self, lines: int = 5) -> str:
        if self.workdir is None:
            return ""
        try:
            text = (self.workdir / "server.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.strip().splitlines()[-lines:])

    def stop(self) -> None:
        if self.workdir is None:
            return
        stop_cluster(self.data_dir, self.bindir, self.postmaster_pid, self._safe_run_as())
        shutil.rmtree(self.workdir, ignore_errors=True)
        self.workdir = None

    def _safe_run_as(self) -> dict[str, object]:
        try:
            return self._run_as()
        except SandboxUnavailable:
            return {}


def stop_cluster(data_dir: Path, bindir: Path | None, pid: int | None, run_as: dict[str, object]) -> None:
    """pg_ctl stop -m immediate, then make sure the postmaster's process group is gone."""
    pid = pid or _postmaster_pid(data_dir)
    if bindir is not None and (data_dir / "postmaster.pid").exists():
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(
                [str(bindir / "pg_ctl"), "-D", str(data_dir), "-m", "immediate", "-w", "-t", "30", "stop"],
                capture_output=True,
                timeout=60,
                check=False,
                **run_as,  # type: ignore[call-overload]
            )
    if pid is not None:
        _kill_group(pid)


def _kill_group(pid: int) -> None:
    """The postmaster is a session leader: its pid is the process group of every backend it started.

    The group is signalled only while a live postgres process is in it (a recycled pid is left alone).
    """
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if not _group_has_postgres(pid):
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and _group_has_postgres(pid):
            time.sleep(0.05)


def _postmaster_pid(data_dir: Path) -> int | None:
    try:
        first = (data_dir / "postmaster.pid").read_text().splitlines()[0]
        return int(first.strip())
    except (OSError, ValueError, IndexError):
        return None


def _tail(text: str, lines: int = 5) -> str:
    return " | ".join(text.strip().splitlines()[-lines:])


def reap_local_sandboxes(older_than: float = REAP_AFTER_SECONDS, root: Path | None = None) -> list[str]:
    """Remove leftover local sandbox folders (a drill killed before teardown), stopping their servers; in
    `root` (a pgBackRest drill's work_dir), else the system's temporary folder."""
    reaped = []
    root = root or Path(tempfile.gettempdir())
    for folder in root.glob(f"{DRILL_PREFIX}*"):
        if folder.name.startswith(f"{DRILL_PREFIX}mysql_"):
            continue  # a MariaDB sandbox: opsverify.drills.mysql_sandbox reaps those (stopping their server first)
        try:
            age = time.time() - folder.stat().st_mtime
        except OSError:
            continue
        if not folder.is_dir() or age <= older_than:
            continue
        data_dir = folder / "data"
        pid = _postmaster_pid(data_dir)
        if pid is not None:
            _kill_group(pid)
        shutil.rmtree(folder, ignore_errors=True)
        reaped.append(folder.name)
    return reaped


def _group_has_postgres(pgid: int) -> bool:
    """Whether a live (not zombie) postgres process is in process group `pgid`."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # /proc/PID/stat: pid (comm) state ppid pgrp ...; comm may contain spaces, so split after the ')'.
        comm = stat[stat.find("(") + 1 : stat.rfind(")")]
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] != "Z" and "postgres" in comm:
            return True
    return False
