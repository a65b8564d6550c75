"""Where and as whom to reach a MySQL / MariaDB server, from a mysql:// URL (the mysql kind and the MySQL
restore drill share it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pymysql

DEFAULT_PORT = 3306
PROGRAM_NAME = "opsverify"


@dataclass(frozen=True)
class Endpoint:
    """Where and as whom to connect, from a mysql:// URL (the password stays out of `where`)."""

    host: str
    port: int
    user: str
    password: str
    database: str
    unix_socket: str | None = None

    @property
    def where(self) -> str:
        place = f"{self.unix_socket}" if self.unix_socket else f"{self.host}:{self.port}"
        return f"{place}/{self.database}"

    def connect(self, connect_timeout: float, read_timeout: float | None = None, **extra: Any) -> Any:
        """A PyMySQL connection in autocommit mode (raises pymysql.MySQLError)."""
        # The handshake is bounded by connect_timeout too (a silent port must not hang for read_timeout).
        connection = pymysql.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            database=self.database or None,
            unix_socket=self.unix_socket,
            connect_timeout=max(1.0, connect_timeout),
            read_timeout=max(1.0, connect_timeout),
            write_timeout=max(1.0, connect_timeout),
            autocommit=True,
            charset="utf8mb4",
            program_name=PROGRAM_NAME,
            **extra,
        )
        for attribute in ("_read_timeout", "_write_timeout"):  # PyMySQL has no public setter
            setattr(connection, attribute, read_timeout)
        return connection


def endpoint(url: str, password: str | None = None) -> Endpoint:
    """Parse mysql://USER:PASSWORD@HOST:PORT/DATABASE[?unix_socket=PATH] (`mysql+pymysql://` accepted)."""
    parts = urlsplit(url)
    params = parse_qs(parts.query)
    sockets = params.get("unix_socket") or params.get("socket") or []
    socket_path = sockets[0] if sockets else None
    return Endpoint(
        host=parts.hostname or "localhost",
        port=parts.port or DEFAULT_PORT,
        user=unquote(parts.username or "root"),
        password=password if password is not None else unquote(parts.password or ""),
        database=unquote(parts.path.lstrip("/")),
        unix_socket=socket_path,
    )
