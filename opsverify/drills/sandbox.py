"""Throwaway PostgreSQL for drills: the sandbox interface, drill databases (create, drop, reap) and safety rules.

Only databases named `opsverify_drill_<UTC time>_<random>` are ever dropped, and a sandbox that is a
postgres entry of the target (same host, port and database) is refused before anything is created.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import socket
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

DRILL_PREFIX = "opsverify_drill_"
_DRILL_NAME = re.compile(r"^opsverify_drill_(\d{14})_[0-9a-f]{6}$")
REAP_AFTER_SECONDS = 86400.0
CONNECT_TIMEOUT = 10
ADMIN_STATEMENT_TIMEOUT_MS = 120_000
_LOOPBACK = {"localhost", "127.0.0.1", "::1", "ip6-localhost"}


class SandboxUnavailable(Exception):
    """No sandbox of the asked kind can run here; the message says why and what to do."""


class SandboxRefused(Exception):
    """The sandbox is (or might be) a production database of the target: the drill does not touch it."""


class SandboxError(Exception):
    """The sandbox server misbehaved (create/drop failed, server went away)."""


def new_drill_database_name(now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d%H%M%S")
    return f"{DRILL_PREFIX}{stamp}_{secrets.token_hex(3)}"


def is_drill_database(name: str) -> bool:
    return bool(_DRILL_NAME.match(name))


def drill_database_age(name: str, now: datetime | None = None) -> float | None:
    """Seconds since the drill database `name` was created (from its name); None for other names."""
    match = _DRILL_NAME.match(name)
    if not match:
        return None
    created = datetime.strptime(match.group(1), "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    return ((now or datetime.now(UTC)) - created).total_seconds()


def with_database(url: str, database: str) -> str:
    """`url` (URL or key=value conninfo) pointed at another database."""
    params: dict[str, Any] = dict(conninfo_to_dict(url))
    params["dbname"] = database
    return make_conninfo("", **params)


def client_environment(url: str) -> tuple[str, dict[str, str]]:
    """Conninfo without the password (it would show in `ps`) and the environment carrying it for psql/pg_restore."""
    params: dict[str, Any] = dict(conninfo_to_dict(url))
    password = params.pop("password", None)
    env = {**os.environ, "PGCONNECT_TIMEOUT": str(CONNECT_TIMEOUT)}
    env.pop("PGPASSWORD", None)
    if password is not None:
        env["PGPASSWORD"] = str(password)
    return make_conninfo("", **params), env


@dataclass(frozen=True)
class ServerAddress:
    """Host, port and database a connection string points at, normalised for comparison."""

    host: str
    port: int
    database: str

    @classmethod
    def of(cls, url: str) -> ServerAddress:
        params = conninfo_to_dict(url)
        host = str(params.get("host") or params.get("hostaddr") or os.environ.get("PGHOST") or "localhost")
        host = host.split(",")[0]
        port = int(str(params.get("port") or os.environ.get("PGPORT") or 5432).split(",")[0])
        user = str(params.get("user") or os.environ.get("PGUSER") or "postgres")
        database = str(params.get("dbname") or os.environ.get("PGDATABASE") or user)
        return cls(host.lower(), port, database)

    def __str__(self) -> str:
        return f"{self.host}:{self.port}/{self.database}"

    def same_server(self, other: ServerAddress) -> bool:
        return self.port == other.port and _same_host(self.host, other.host)

    def same_database(self, other: ServerAddress) -> bool:
        return self.database == other.database and self.same_server(other)


def _same_host(a: str, b: str) -> bool:
    if a == b:
        return True
    if a.startswith("/") or b.startswith("/"):
        return False  # a unix socket directory never equals a TCP host by name; both sides local is rare
    if a in _LOOPBACK and b in _LOOPBACK:
        return True
    return bool(_resolve(a) & _resolve(b))


def _resolve(host: str, timeout: float = 3.0) -> set[str]:
    """IP addresses of `host` (empty when it does not resolve in time): DNS gets a timeout like any network call."""
    found: set[str] = set()

    def run() -> None:
        with contextlib.suppress(OSError):
            found.update(str(info[4][0]) for info in socket.getaddrinfo(host, None))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    addresses = set(found)
    return {"loopback" if a.startswith("127.") or a == "::1" else a for a in addresses}


def refuse_production(sandbox_url: str, production: Iterable[tuple[str, str]]) -> None:
    """Raise SandboxRefused when the sandbox is one of the target's postgres entries (name, url)."""
    sandbox = ServerAddress.of(sandbox_url)
    for name, url in production:
        try:
            address = ServerAddress.of(url)
        except (psycopg.ProgrammingError, ValueError):
            continue
        if sandbox.same_database(address):
            raise SandboxRefused(
                f"refusing to drill: the sandbox {sandbox} is the database of postgres entry {name!r}; a drill "
                "never restores into or drops from a production database. Point restore.sandbox_url at the "
                "admin database of a scratch server (or use sandbox: docker / local)"
            )


class Sandbox(ABC):
    """A PostgreSQL server the drill may create and drop `opsverify_drill_*` databases on."""

    kind: str = ""
    disposable: bool = False  # the server itself is thrown away at teardown (no need to drop databases)

    @property
    @abstractmethod
    def admin_url(self) -> str:
        """A URL of the server's admin database (postgres)."""

    @abstractmethod
    def start(self) -> None:
        """Make the server available (no-op for an existing server). Raises SandboxUnavailable."""

    @abstractmethod
    def stop(self) -> None:
        """Tear the server down (no-op for an existing server). Idempotent; never raises."""

    def describe(self) -> str:
        return f"{self.kind} sandbox {ServerAddress.of(self.admin_url)}"


class ScratchServer(Sandbox):
    """An existing scratch server reached through an admin URL (`sandbox: url`): nothing to start or stop
    but a check that it answers (`start`, per engine)."""

    kind = "url"

    def __init__(self, url: str) -> None:
        self._url = url

    @property
    def admin_url(self) -> str:
        return self._url

    def stop(self) -> None:
        return None


def admin_connect(url: str) -> psycopg.Connection[Any]:
    return psycopg.connect(
        url,
        autocommit=True,
        connect_timeout=CONNECT_TIMEOUT,
        options=f"-c statement_timeout={ADMIN_STATEMENT_TIMEOUT_MS}",
        application_name="opsverify-drill",
    )


def server_version(url: str) -> int:
    with admin_connect(url) as connection:
        return int(connection.info.server_version)


class DrillDatabase:
    """One `opsverify_drill_*` database on a sandbox: created fresh, dropped at teardown; leftovers reaped."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.name = new_drill_database_name()
        self.created = False
        self.reaped: list[str] = []

    @property
    def url(self) -> str:
        return with_database(self.sandbox.admin_url, self.name)

    def create(self) -> None:
        try:
            with admin_connect(self.sandbox.admin_url) as connection:
                self.reaped = reap(connection)
                connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))
                self.created = True
        except psycopg.Error as exc:
            raise SandboxError(
                f"cannot create database {self.name} on {self.sandbox.describe()}: {first_line(exc)}"
            ) from None

    def drop(self) -> str | None:
        """Drop the database; returns a problem description instead of raising (teardown must go on)."""
        if not self.created:
            return None
        try:
            with admin_connect(self.sandbox.admin_url) as connection:
                drop_drill_database(connection, self.name)
            self.created = False
        except psycopg.Error as exc:
            return f"could not drop {self.name}: {first_line(exc)}"
        return None


def drop_drill_database(connection: psycopg.Connection[Any], name: str) -> None:
    """DROP DATABASE for drill databases only (the one place a drill drops anything)."""
    if not is_drill_database(name):
        raise SandboxRefused(
            f"refusing to drop {name!r}: drills only drop databases named {DRILL_PREFIX}<time>_<id>"
        )
    identifier = sql.Identifier(name)
    if connection.info.server_version >= 130000:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(identifier))
        return
    connection.execute(
        "select pg_terminate_backend(pid) from pg_stat_activity where datname = %s and pid <> pg_backend_pid()",
        (name,),
    )
    connection.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(identifier))


def reap(connection: psycopg.Connection[Any], older_than: float = REAP_AFTER_SECONDS) -> list[str]:
    """Drop leftover drill databases older than `older_than` seconds (a drill killed before its teardown)."""
    rows = connection.execute(
        "select datname from pg_database where datname like %s", (DRILL_PREFIX.replace("_", r"\_") + "%",)
    ).fetchall()
    reaped = []
    for (name,) in rows:
        age = drill_database_age(str(name))
        if age is not None and age > older_than:
            drop_drill_database(connection, str(name))
            reaped.append(str(name))
    return reaped


def first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
