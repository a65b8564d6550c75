"""Ways of reaching a machine: local, SSH, a Docker container (one backend per module, chosen by `via:`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlsplit

from opsverify.connect.base import CommandResult, ConnectError, Connection, FileStat, glob
from opsverify.connect.via import LOCAL, Via, ViaKey, compose_service

__all__ = [
    "LOCAL",
    "CommandResult",
    "ConnectError",
    "Connection",
    "FileStat",
    "Via",
    "ViaKey",
    "connect",
    "glob",
    "open_connection",
]


def open_connection(via: Via, base_dir: Path | None = None) -> Connection:
    """Connect as `via` says (ConnectError with the fix when the machine cannot be reached)."""
    if via.scheme == "ssh":
        from opsverify.connect.ssh import SshConnection

        parts = urlsplit(via.url)

        def local_path(value: str | None) -> Path | None:
            if value is None:
                return None
            path = Path(value).expanduser()
            return path if path.is_absolute() or base_dir is None else base_dir / path

        return SshConnection(
            parts.hostname or "",
            parts.port or 22,
            unquote(parts.username) if parts.username else None,
            timeout=via.timeout,
            identity=via.identity,
            passphrase=via.passphrase,
            known_hosts=local_path(via.known_hosts),
            insecure_skip_host_key=via.insecure_skip_host_key,
        )
    if via.scheme == "docker":
        from opsverify.connect.docker import DockerConnection

        container = compose_service(via.url) or via.url.split("://", 1)[1].strip("/")
        return DockerConnection(container, timeout=via.timeout, docker_host=via.docker_host)
    from opsverify.connect.local import LocalConnection

    return LocalConnection()


@contextmanager
def connect(via: Via | None, base_dir: Path | None = None) -> Iterator[Connection]:
    """`with connect(entry.via, ctx.base_dir) as machine:` opens and always closes the connection."""
    connection = open_connection(via or LOCAL, base_dir)
    try:
        yield connection
    finally:
        connection.close()
