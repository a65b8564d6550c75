"""MySQL / MariaDB sandboxes: an existing scratch server (`url`) or a temporary mariadbd (`local`), the
client programs, and the guard that refuses a sandbox that is a `mysql` entry of the target (same server and
database); leftover local servers are reaped.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pymysql

from opsverify.backups.pgtools import ToolMissing
from opsverify.drills.sandbox import (
    CONNECT_TIMEOUT,
    DRILL_PREFIX,
    REAP_AFTER_SECONDS,
    Sandbox,
    SandboxRefused,
    SandboxUnavailable,
    ScratchServer,
    first_line,
)
from opsverify.mysql_endpoint import Endpoint, endpoint

LOCAL_PREFIX = f"{DRILL_PREFIX}mysql_"
START_TIMEOUT = 60
SERVER_USER = "mysql"
_SERVER_SETTINGS = (
    "--skip-networking",
    "--skip-name-resolve",
    "--skip-log-bin",
    "--innodb-flush-log-at-trx-commit=0",
    "--innodb-doublewrite=0",
    "--innodb-buffer-pool-size=256M",
    "--max-connections=40",
)


def mysql_tool(names: tuple[str, ...], client_bin: str | None = None) -> str:
    """Path of the first of `names` (mariadb, mysql) in `client_bin` or on PATH."""
    for name in names:
        if client_bin:
            candidate = Path(client_bin).expanduser() / name
            if candidate.is_file():
                return str(candidate)
            continue
        found = shutil.which(name)
        if found:
            return found
    where = f"in client_bin {client_bin}" if client_bin else "on PATH"
    raise ToolMissing(
        f"{' / '.join(names)} not found {where}; install the MariaDB client (apt-get install mariadb-client) "
        "or set client_bin to the folder holding it"
    )


def admin_connect(target: Endpoint) -> Any:
    """An autocommit admin connection (raises pymysql.MySQLError)."""
    return target.connect(CONNECT_TIMEOUT, read_timeout=120)


class MysqlSandbox(Sandbox):
    """A MySQL/MariaDB server the drill creates and drops `opsverify_drill_*` databases on."""

    @property
    def endpoint(self) -> Endpoint:
        return endpoint(self.admin_url)

    def describe(self) -> str:
        return f"{self.kind} sandbox {self.endpoint.where}"


class MysqlUrlSandbox(MysqlSandbox, ScratchServer):
    """An existing scratch server, reached through an admin URL (mysql://root:pw@scratch:3306/)."""

    def start(self) -> None:
        try:
            with admin_connect(self.endpoint) as connection, connection.cursor() as cursor:
                cursor.execute("select 1")
        except pymysql.MySQLError as exc:
            raise SandboxUnavailable(
                f"cannot connect to sandbox_url {self.endpoint.where}: {error_reason(exc)}"
            ) from None


class MysqlLocalSandbox(MysqlSandbox):
    """A temporary mariadbd with its own data directory and socket (no TCP port), removed after the drill.

    As root the server runs as the `mysql` system user when there is one."""

    kind = "local"
    disposable = True

    def __init__(self, server_bin: str | None = None) -> None:
        self.server_bin = server_bin
        self.workdir: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def socket(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "mysqld.sock"

    @property
    def admin_url(self) -> str:
        return f"mysql://root@localhost/?unix_socket={self.socket}"

    def describe(self) -> str:
        return f"local sandbox mariadbd ({self.workdir})"

    def _programs(self) -> tuple[str, str]:
        try:
            install = mysql_tool(("mariadb-install-db", "mysql_install_db"), self.server_bin)
            server = mysql_tool(("mariadbd", "mysqld"), self.server_bin or _default_sbin())
        except ToolMissing:
            raise SandboxUnavailable(
                "mariadb-install-db/mariadbd not found; install the MariaDB server (apt-get install "
                "mariadb-server) or set restore.server_bin to the folder holding them"
            ) from None
        return install, server

    def start(self) -> None:
        install, server = self._programs()
        user = _server_user()
        self.workdir = Path(tempfile.mkdtemp(prefix=LOCAL_PREFIX))
        try:
            os.chmod(self.workdir, 0o755)  # noqa: S103 - the server user must reach its socket and data
            data = self.workdir / "data"
            data.mkdir()
            if user is not None:
                record = pwd.getpwnam(user)
                for path in (self.workdir, data):
                    os.chown(path, record.pw_uid, record.pw_gid)
            user_args = [f"--user={user}"] if user is not None else []
            completed = subprocess.run(
                [
                    install,
                    "--no-defaults",
                    f"--datadir={data}",
                    "--auth-root-authentication-method=normal",
                    "--skip-test-db",
                    f"--tmpdir={self.workdir}",  # its temp tables apart from other servers' in the shared /tmp
                    *user_args,
                ],
                capture_output=True,
                text=True,
                timeout=180,
                check=False,
                cwd=self.workdir,
            )
            if completed.returncode != 0:
                raise SandboxUnavailable(
                    f"mariadb-install-db failed: {_tail(completed.stderr or completed.stdout)}"
                )
            log = self.workdir / "error.log"
            self.process = subprocess.Popen(
                [
                    server,
                    "--no-defaults",
                    f"--datadir={data}",
                    f"--socket={self.socket}",
                    f"--pid-file={self.workdir / 'mysqld.pid'}",
                    f"--log-error={log}",
                    f"--tmpdir={self.workdir}",
                    *_SERVER_SETTINGS,
                    *user_args,
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=self.workdir,
                start_new_session=True,  # Ctrl-C in the terminal must not reach the server before teardown
            )
            self._wait_ready(log)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, log: Path) -> None:
        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SandboxUnavailable(
                    f"mariadbd exited with status {self.process.returncode}: {_log_tail(log)}"
                )
            if self.socket.exists():
                with contextlib.suppress(pymysql.MySQLError):
                    with admin_connect(self.endpoint) as connection, connection.cursor() as cursor:
                        cursor.execute("select 1")
                    return
            time.sleep(0.1)
        raise SandboxUnavailable(
            f"mariadbd did not accept connections within {START_TIMEOUT}s: {_log_tail(log)}"
        )

    def stop(self) -> None:
        if self.workdir is None:
            return
        if self.process is not None:
            _stop_server(self.process.pid, self.process)
            self.process = None
        shutil.rmtree(self.workdir, ignore_errors=True)
        self.workdir = None


def _default_sbin() -> str | None:
    return "/usr/sbin" if shutil.which("mariadbd") is None and Path("/usr/sbin/mariadbd").is_file() else None


def _server_user() -> str | None:
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        return "root"  # mariadbd runs as root only when told so explicitly
    return SERVER_USER


def _stop_server(pid: int, process: subprocess.Popen[bytes] | None = None) -> None:
    """SIGTERM (a clean shutdown), then SIGKILL; the server leads its own process group."""
    for sig, wait in ((signal.SIGTERM, 30.0), (signal.SIGKILL, 10.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if process is not None and process.poll() is not None:
                return
            if process is None and not _alive(pid):
                return
            time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def reap_local_mysql_sandboxes(older_than: float = REAP_AFTER_SECONDS) -> list[str]:
    """Remove leftover local MariaDB sandbox folders (a drill killed before its teardown), stopping their
    servers: older than `older_than` seconds, or whose server is gone."""
    reaped = []
    for folder in Path(tempfile.gettempdir()).glob(f"{LOCAL_PREFIX}*"):
        try:
            age = time.time() - folder.stat().st_mtime
            pid_text = (folder / "mysqld.pid").read_text().strip() if (folder / "mysqld.pid").exists() else ""
        except OSError:
            continue
        pid = int(pid_text) if pid_text.isdigit() else None
        server_gone = pid is not None and not _alive(pid)
        if not folder.is_dir() or (age <= older_than and not server_gone):
            continue
        if pid is not None and _alive(pid) and _is_mariadbd(pid):
            _stop_server(pid)
        shutil.rmtree(folder, ignore_errors=True)
        reaped.append(folder.name)
    return reaped


def _is_mariadbd(pid: int) -> bool:
    try:
        name = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return False
    return name in ("mariadbd", "mysqld")


def refuse_production(sandbox_url: str, production: Iterable[tuple[str, str]]) -> None:
    """Raise SandboxRefused when the sandbox URL is the server and database of a `mysql` entry (name, url)."""
    sandbox = endpoint(sandbox_url)
    for name, url in production:
        try:
            address = endpoint(url)
        except ValueError:
            continue
        same_server = (sandbox.unix_socket or (sandbox.host, sandbox.port)) == (
            address.unix_socket or (address.host, address.port)
        ) or (
            sandbox.unix_socket is None
            and address.unix_socket is None
            and sandbox.port == address.port
            and {sandbox.host, address.host} <= {"localhost", "127.0.0.1", "::1"}
        )
        if same_server and sandbox.database == address.database:
            raise SandboxRefused(
                f"refusing to drill: the sandbox {sandbox.where} is the database of mysql entry {name!r}; a drill "
                "never restores into or drops from a production database. Point restore.sandbox_url at a "
                "scratch server's admin URL without a database (mysql://root:PW@scratch:3306/), or use sandbox: local"
            )


def error_reason(exc: BaseException) -> str:
    args: tuple[Any, ...] = tuple(getattr(exc, "args", ()))
    if len(args) > 1:
        return f"{args[1]} (error {args[0]})"
    return first_line(exc)


def _tail(text: str, lines: int = 5) -> str:
    return " | ".join(text.strip().splitlines()[-lines:])


def _log_tail(log: Path) -> str:
    try:
        return _tail(log.read_text(errors="replace"))
    except OSError:
        return "(no error log)"
