"""A container reached through the Docker Engine API (`via: docker://container`), with the docker SDK.

`docker://compose/PROJECT/SERVICE` finds the container by compose's labels instead of its name (which differs
by compose version, `-` or `_`, and by replica).

The engine is DOCKER_HOST's (unix://, tcp://, ssh://) or `docker_host:`; commands run with `exec`, files are
streamed by `cat` inside the container (no copy of the whole file, no tar archive).
"""

from __future__ import annotations

import io
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import IO, Any
from urllib.parse import urlsplit

import docker
import docker.errors
import paramiko
import requests
from docker.utils.socket import demux_adaptor, frames_iter

from opsverify.connect.base import MAX_OUTPUT, CommandResult, ConnectError, FileStat
from opsverify.connect.via import ComposeService

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
NUMBER_LABEL = "com.docker.compose.container-number"
ONEOFF_LABEL = "com.docker.compose.oneoff"  # `docker compose run`: a one-off container, not the service
FOLDER_LABEL = "com.docker.compose.project.working_dir"
HEALTH_ORDER = {"healthy": 0, None: 0, "starting": 1, "unhealthy": 2}  # None: no healthcheck


class EngineUnreachable(ConnectError):
    """The engine at `where` does not answer; `reason` is the short why (`connection refused`)."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(
            f"the Docker engine at {where} does not answer ({reason}); start it, or point DOCKER_HOST "
            f"(or `docker_host:`) at the engine (unix:///var/run/docker.sock, ssh://user@host)"
        )
        self.where, self.reason = where, reason


def engine_client(docker_host: str | None, timeout: float) -> docker.DockerClient:
    """A client of the engine at `docker_host` (else DOCKER_HOST, else the local socket); ConnectError with
    the fix when it does not answer (EngineUnreachable when nothing answers at all). The one place opsverify
    reaches a Docker engine from: `via: docker://`, the docker and logs kinds, and the drills' sandboxes."""
    where = docker_host or engine_name()
    if where.startswith("unix://"):
        # connected once here first: the docker SDK leaks the socket of a failed connect
        reason = unix_socket_refusal(where[len("unix://") :], timeout)
        if reason:
            raise EngineUnreachable(where, reason)
    try:
        if docker_host:
            client = docker.DockerClient(base_url=docker_host, timeout=int(max(1, timeout)))
        else:
            client = docker.from_env(timeout=int(max(1, timeout)))
        # the SDK's API client is a requests session: left trusting the environment, it walks os.environ on
        # every call, racing pytest's PYTEST_CURRENT_TEST updates (see opsverify.httpclient)
        client.api.trust_env = False
        client.ping()
    except (paramiko.SSHException, paramiko.ssh_exception.NoValidConnectionsError) as exc:
        raise ConnectError(ssh_engine_problem(where, exc)) from None
    except (docker.errors.DockerException, requests.RequestException, OSError) as exc:
        raise EngineUnreachable(where, short(exc)) from None
    return client


def engine_hostname(docker_host: str | None) -> str | None:
    """The host a remote engine (tcp://, ssh://, http(s)://) publishes container ports on; None for a local
    socket (unix://, npipe://), where testcontainers' rules apply (localhost, or a gateway inside a container)."""
    where = docker_host or engine_name()
    if where.split("://", 1)[0] in ("unix", "npipe", "http+unix"):
        return None
    return urlsplit(where).hostname


def ssh_engine_problem(
    where: str, exc: paramiko.SSHException | paramiko.ssh_exception.NoValidConnectionsError
) -> str:
    """What went wrong logging in to an ssh:// engine, and the fix. The docker SDK logs in as `ssh` would:
    ~/.ssh/config, its IdentityFile or ~/.ssh/id_* or ssh-agent, and the host key in ~/.ssh/known_hosts."""
    parsed = urlsplit(where)
    host, port = parsed.hostname or "?", parsed.port or 22
    text = str(exc)
    if isinstance(exc, paramiko.ssh_exception.NoValidConnectionsError):
        return (
            f"the Docker engine at {where} does not answer: connection refused by {host}:{port} "
            f"(is sshd running there, on that port?)"
        )
    if "not found in known_hosts" in text:
        return (
            f"the SSH host key of {host}:{port} (Docker engine {where}) is not in ~/.ssh/known_hosts, so it "
            f"cannot be verified: check the key's fingerprint, then add it with "
            f"`ssh-keyscan -p {port} {host} >> ~/.ssh/known_hosts`"
        )
    if isinstance(exc, paramiko.AuthenticationException):
        return (
            f"SSH login to the Docker engine at {where} was refused ({text or 'authentication failed'}): "
            f"give the key as IdentityFile in ~/.ssh/config, as ~/.ssh/id_ed25519, or through ssh-agent"
        )
    return f"the Docker engine at {where} does not answer over SSH ({text[:200]}); check `ssh {host}` works"


def unix_socket_refusal(path: str, timeout: float) -> str | None:
    """Why a unix socket does not accept a connection (None: it does)."""
    if not os.path.exists(path):
        return "no such socket"
    probe = socket.socket(socket.AF_UNIX)
    try:
        probe.settimeout(timeout)
        probe.connect(path)
    except OSError as exc:
        return (exc.strerror or str(exc)).lower()
    finally:
        probe.close()
    return None


def engine_name() -> str:
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def short(exc: BaseException) -> str:
    text = str(exc)
    for marker in ("Connection refused", "No such file or directory", "timed out", "Permission denied"):
        if marker in text:
            return marker.lower()
    return text[:200]


class DockerConnection:
    is_local = False

    def __init__(
        self, container: str | ComposeService, *, timeout: float, docker_host: str | None = None
    ) -> None:
        self.timeout = timeout
        self.client = engine_client(docker_host, timeout)
        try:
            if isinstance(container, ComposeService):
                self.container = compose_container(self.client, container, docker_host or engine_name())
                self.where = f"container {self.container.name} (compose service {container.service})"
                return
            self.where = f"container {container}"
            self.container = self.client.containers.get(container)
        except ConnectError:
            self.client.close()
            raise
        except docker.errors.NotFound:
            self.client.close()
            raise ConnectError(
                f"no container named {container} on the Docker engine at {docker_host or engine_name()}; "
                f"check the name with `docker ps` (or find a compose service's container by its labels: "
                f"docker://compose/PROJECT/SERVICE)"
            ) from None
        except (docker.errors.DockerException, requests.RequestException) as exc:
            self.client.close()
            raise ConnectError(f"cannot look up container {container}: {short(exc)}") from None
        if self.container.status != "running":
            self.client.close()
            raise ConnectError(
                f"container {container} is {self.container.status}, not running; start it first"
            )

    @contextmanager
    def _exec(self, argv: list[str]) -> Iterator[Iterator[tuple[bytes | None, bytes | None]]]:
        """The (stdout, stderr) chunks of `argv` run in the container; the socket is closed on exit."""
        api = self.client.api
        try:
            exec_id = api.exec_create(self.container.id, argv, stdout=True, stderr=True)["Id"]
            sock: Any = api.exec_start(exec_id, socket=True)
        except (docker.errors.DockerException, requests.RequestException) as exc:
            raise ConnectError(f"cannot exec in {self.where}: {short(exc)}") from None
        self._last_exec = exec_id
        try:
            yield (demux_adaptor(*frame) for frame in frames_iter(sock, tty=False))  # type: ignore[no-untyped-call]
        finally:
            close_socket(sock)

    def run(self, command: Sequence[str] | str, timeout: float) -> CommandResult:
        argv = ["/bin/sh", "-c", command] if isinstance(command, str) else list(command)
        started = time.monotonic()
        out, err = bytearray(), bytearray()
        failure: list[BaseException] = []

        stop = threading.Event()

        def read() -> None:
            try:
                with self._exec(argv) as chunks:
                    for chunk_out, chunk_err in chunks:
                        if stop.is_set():
                            return
                        if chunk_out and len(out) <= MAX_OUTPUT:
                            out.extend(chunk_out)
                        if chunk_err and len(err) <= MAX_OUTPUT:
                            err.extend(chunk_err)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                if not stop.is_set():
                    failure.append(exc)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(timeout)
        if reader.is_alive():
            stop.set()
            # The exec goes on in the container (the Engine API cannot kill an exec); its output is dropped.
            return CommandResult(None, bytes(out[:MAX_OUTPUT]), bytes(err[:MAX_OUTPUT]), timeout, True)
        if failure:
            if isinstance(failure[0], ConnectError):
                raise failure[0]
            raise ConnectError(f"exec in {self.where} failed: {short(failure[0])}")
        try:
            code = self.client.api.exec_inspect(self._last_exec).get("ExitCode")
        except (docker.errors.DockerException, requests.RequestException) as exc:
            raise ConnectError(f"exec in {self.where} failed: {short(exc)}") from None
        truncated = len(out) > MAX_OUTPUT or len(err) > MAX_OUTPUT
        return CommandResult(
            code,
            bytes(out[:MAX_OUTPUT]),
            bytes(err[:MAX_OUTPUT]),
            time.monotonic() - started,
            False,
            truncated,
        )

    def open(self, path: str) -> IO[bytes]:
        if self.stat(path) is None:
            raise ConnectError(f"cannot read {path} in {self.where}: no such file")
        context = self._exec(["cat", "--", path])
        frames = context.__enter__()
        chunks = (chunk for chunk, _err in frames if chunk)
        return io.BufferedReader(
            ChunkReader(chunks, lambda: context.__exit__(None, None, None)), buffer_size=65536
        )

    def stat(self, path: str) -> FileStat | None:
        result = self.run(["stat", "-L", "-c", "%s %Y %F", "--", path], self.timeout)
        if result.exit_code != 0:
            return None
        return parse_stat(path, result.text())

    def listdir(self, path: str) -> list[FileStat]:
        script = (
            'cd -- "$1" 2>/dev/null || exit 0; '
            'for f in * .[!.]*; do [ -e "$f" ] && stat -L -c "%s|%Y|%F|%n" -- "$f"; done; true'
        )
        result = self.run(["/bin/sh", "-c", script, "sh", path], self.timeout)
        entries = []
        for line in result.text().splitlines():
            parts = line.split("|", 3)
            if len(parts) == 4 and parts[0].isdigit():
                size, mtime, kind, name = parts
                entries.append(
                    FileStat(f"{path.rstrip('/')}/{name}", int(size), float(mtime), kind == "directory")
                )
        return sorted(entries, key=lambda entry: entry.path)

    def close(self) -> None:
        self.client.close()


def compose_container(client: docker.DockerClient, compose: ComposeService, engine: str) -> Any:
    """The running container of a compose service, found by the labels compose puts on it: the first healthy
    replica (by container number), else the first running one. ConnectError with the fix when none runs, or
    when the labels match containers of two compose files (one project name used twice)."""
    project, service = compose
    labels = [f"{PROJECT_LABEL}={project}", f"{SERVICE_LABEL}={service}"]
    try:
        found = client.containers.list(all=True, filters={"label": labels}, ignore_removed=True)
    except (docker.errors.DockerException, requests.RequestException) as exc:
        raise ConnectError(
            f"cannot look up compose service {service} of project {project} at {engine}: {short(exc)}"
        ) from None
    found = sorted(
        (c for c in found if c.labels.get(ONEOFF_LABEL, "False") != "True"),
        key=lambda c: (replica_number(c), c.name),
    )
    start = f"start it with `docker compose -p {project} up -d {service}`"
    if not found:
        raise ConnectError(
            f"no container of compose project {project}, service {service} on the Docker engine at {engine} "
            f"(none is labelled {PROJECT_LABEL}={project} and {SERVICE_LABEL}={service}); {start}, or check "
            f"the names with `docker compose ls` and `docker compose -p {project} ps`"
        )
    folders = sorted({c.labels[FOLDER_LABEL] for c in found if c.labels.get(FOLDER_LABEL)})
    if len(folders) > 1:
        raise ConnectError(
            f"compose project {project}, service {service} is ambiguous on the Docker engine at {engine}: its "
            f"containers ({', '.join(str(c.name) for c in found)}) come from compose files in {len(folders)} folders "
            f"({', '.join(folders)}); give each project its own name (`name:` in the compose file, or "
            f"`docker compose -p`), or name the container: docker://CONTAINER"
        )
    running = [c for c in found if c.status == "running"]
    if not running:
        states = ", ".join(f"{c.name} is {c.status}" for c in found)
        raise ConnectError(
            f"no container of compose project {project}, service {service} is running ({states}); {start}"
        )
    return min(running, key=lambda c: HEALTH_ORDER.get(c.attrs["State"].get("Health", {}).get("Status"), 1))


def replica_number(container: Any) -> int:
    number = str(container.labels.get(NUMBER_LABEL, ""))
    return int(number) if number.isdigit() else 0


def parse_stat(path: str, text: str) -> FileStat | None:
    parts = text.strip().split(" ", 2)
    if len(parts) < 3 or not parts[0].isdigit():
        return None
    return FileStat(path, int(parts[0]), float(parts[1]), parts[2].startswith("directory"))


def close_socket(sock: Any) -> None:
    """Close an attached exec socket (a SocketIO over a unix socket, a TLS socket, or a paramiko channel)."""
    inner = getattr(sock, "_sock", None)
    with suppress(OSError):
        sock.close()
    if inner is not None:
        with suppress(OSError):
            inner.close()


class ChunkReader(io.RawIOBase):
    """A raw stream over chunks of bytes (an exec's stdout, a container's log); `on_close` frees the source."""

    def __init__(self, chunks: Iterator[bytes], on_close: Callable[[], object] | None = None) -> None:
        self.chunks, self.pending, self.on_close = chunks, b"", on_close

    def close(self) -> None:
        if not self.closed and self.on_close is not None:
            self.on_close()
        super().close()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self.pending:
            try:
                self.pending = next(self.chunks)
            except StopIteration:
                return 0
            except (docker.errors.DockerException, requests.RequestException) as exc:
                raise ConnectError(f"reading from the container failed: {short(exc)}") from None
        size = min(len(buffer), len(self.pending))
        buffer[:size] = self.pending[:size]
        self.pending = self.pending[size:]
        return size
