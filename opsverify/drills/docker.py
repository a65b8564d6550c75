"""The `docker` sandbox: a throwaway database container (testcontainers) whose version matches the dump's origin.

The engine is reached through `opsverify.connect.docker.engine_client`, the one Docker client of opsverify
(`restore.docker_host`, else DOCKER_HOST, else the local socket): the ping, the image check and pull, the
reaping and testcontainers' own calls all go through that client.

PostgreSQL dumps get `postgres:<major>`, MySQL dumps `mariadb:<major.minor>` (or `mysql:<major.minor>` for a
dump of MySQL); `image:` names any other image that honours the official images' variables. The container,
its anonymous volumes and nothing else are created; teardown removes them, and a container left by a drill
that was killed outright is removed by the next docker drill (label `org.opsverify.drill-sandbox`).
"""

from __future__ import annotations

import contextlib
import gc
import re
import secrets
import time
import warnings
from typing import Any

from opsverify.drills.mysql_sandbox import MysqlSandbox
from opsverify.drills.sandbox import REAP_AFTER_SECONDS, Sandbox, SandboxUnavailable

DEFAULT_IMAGE = "postgres:17"
DEFAULT_MYSQL_IMAGE = "mariadb:lts"
PING_TIMEOUT = 5
API_TIMEOUT = 120  # one engine API call (create, pull, remove); pulls of big images get this long per call
LABEL = "org.opsverify.drill-sandbox"
_SANDBOX_USER = "root"


def image_for(dumped_from: str | None, image: str | None = None) -> str:
    """`image` when given, else postgres:<major> of the dump's "Dumped from database version" (9.6 -> 9.6)."""
    if image:
        return image
    match = re.match(r"(\d+)(?:\.(\d+))?", dumped_from or "")
    if not match:
        return DEFAULT_IMAGE
    major = int(match.group(1))
    if major < 10 and match.group(2) is not None:
        return f"postgres:{major}.{match.group(2)}"
    return f"postgres:{major}"


def mysql_image_for(server_version: str | None, image: str | None = None) -> str:
    """`image` when given, else mariadb:<major.minor> of a dump's "-- Server version" (10.11.6-MariaDB-0+deb12u1
    -> mariadb:10.11), mysql:<major.minor> for a MySQL server (8.0.36 -> mysql:8.0), mariadb:lts when unknown."""
    if image:
        return image
    match = re.match(r"(\d+)\.(\d+)", server_version or "")
    if not match:
        return DEFAULT_MYSQL_IMAGE
    name = "mariadb" if "mariadb" in (server_version or "").lower() else "mysql"
    return f"{name}:{match.group(1)}.{match.group(2)}"


def docker_unavailable_reason(docker_host: str | None = None) -> str | None:
    """Why no Docker engine can be used (None when one answers a ping within the timeout)."""
    reason, client = _engine(docker_host, PING_TIMEOUT)
    if client is not None:
        client.close()
    return reason


def _engine(docker_host: str | None, timeout: float) -> tuple[str | None, Any]:
    """(None, a client of the engine) or (why there is none, None); the client is connect's `engine_client`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)  # docker-py leaves its socket to the GC on failure
        try:
            from opsverify.connect.base import ConnectError
            from opsverify.connect.docker import EngineUnreachable, engine_client
        except ImportError:
            return "the docker Python package is not installed (pip install 'testcontainers[postgres]')", None
        try:
            return None, engine_client(docker_host, timeout)
        except EngineUnreachable as exc:
            if docker_host:
                return (
                    f"no Docker engine at {docker_host} ({exc.reason}); start it, or fix restore.docker_host"
                ), None
            return f"no Docker engine ({exc.reason}); start Docker or set DOCKER_HOST", None
        except ConnectError as exc:
            return str(exc), None
        finally:
            gc.collect()


def _short(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__


def _pull_reason(exc: BaseException) -> str:
    """The engine's own words from a failed pull (docker-py wraps them in the HTTP request line)."""
    text = _short(exc)
    inner = re.search(r'\("(.*)"\)\s*$', text)
    return inner.group(1) if inner else text


def reap_docker_sandboxes(
    older_than: float = REAP_AFTER_SECONDS, docker_host: str | None = None
) -> list[str]:
    """Remove sandbox containers (and their anonymous volumes) of drills killed before their teardown."""
    _reason, client = _engine(docker_host, PING_TIMEOUT)
    if client is None:
        return []
    client.api.timeout = API_TIMEOUT
    reaped: list[str] = []
    with contextlib.suppress(Exception), warnings.catch_warnings():  # reaping never fails a drill
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            for container in client.containers.list(all=True, filters={"label": LABEL}):
                started = float(container.labels.get(LABEL) or 0)
                if time.time() - started > older_than:
                    container.remove(force=True, v=True)
                    reaped.append(
                        f"container {container.name} ({container.labels.get(LABEL + '.image', '?')})"
                    )
        finally:
            client.close()
    return reaped


def ensure_image(client: Any, image: str, fix: str) -> None:
    """The image is on the engine, or is pulled now; else SandboxUnavailable naming it and `fix`."""
    import docker.errors

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            try:
                client.images.get(image)
                return
            except docker.errors.ImageNotFound:
                pass
            try:
                client.images.pull(image)
            except Exception as exc:  # noqa: BLE001 - registry, auth and engine errors alike
                raise SandboxUnavailable(
                    f"the image {image} is not on the Docker engine and cannot be pulled "
                    f"({_pull_reason(exc)}); {fix}"
                ) from None
        except SandboxUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - the engine went away between ping and now
            raise SandboxUnavailable(
                f"the Docker engine failed while looking for {image}: {_short(exc)}"
            ) from None


class _Container:
    """One testcontainers container of a sandbox: engine check, start with clear errors, full removal.

    Every engine call goes through one client, connect's `engine_client` of `docker_host`: testcontainers
    builds a client of its own when a container is made (`client_kw()` keeps that one from calling any
    engine), and `start()` puts ours in its place."""

    def __init__(self, image: str, what: str, docker_host: str | None = None) -> None:
        self.image = image
        self.what = what  # "PostgreSQL", "MariaDB/MySQL"
        self.docker_host = docker_host
        self.password = secrets.token_urlsafe(18)
        self.container: Any = None
        self.client: Any = None

    def open(self) -> None:
        """Connect to the engine; SandboxUnavailable saying why when none answers."""
        reason, self.client = _engine(self.docker_host, PING_TIMEOUT)
        if self.client is None:
            raise SandboxUnavailable(reason or "no Docker engine")
        self.client.api.timeout = API_TIMEOUT  # pinged within PING_TIMEOUT; a pull or create may take longer

    def client_kw(self) -> dict[str, Any]:
        """testcontainers' `docker_client_kw`: the engine's API version (so the client testcontainers makes
        asks no engine for it) and address (never used: `start()` replaces that client by ours)."""
        from opsverify.connect.docker import engine_name

        where = self.docker_host or engine_name()
        return {
            "version": self.client.api.api_version,
            "environment": {"DOCKER_HOST": where},
            "use_ssh_client": where.startswith("ssh://"),  # no SSH login for a client that is never used
        }

    def start(self, container: Any) -> None:
        """Start `container` (made by the caller with `client_kw()`); raises SandboxUnavailable naming the
        image and the fix."""
        from testcontainers.core.config import testcontainers_config

        from opsverify.connect.docker import engine_name
        from opsverify.redaction import SECRETS

        theirs = container.get_docker_client()
        with contextlib.suppress(Exception):
            theirs.client.close()
        theirs.client = self.client
        SECRETS.add(self.password)
        self._ensure_image(
            self.image,
            f"run `docker pull {self.image}` where the registry is reachable, or set restore.image to a "
            f"{self.what} image your engine has or can pull",
        )
        if not testcontainers_config.ryuk_disabled and self.docker_host not in (None, engine_name()):
            raise SandboxUnavailable(
                f"testcontainers starts its reaper on DOCKER_HOST's engine ({engine_name()}), not on "
                f"restore.docker_host {self.docker_host}: set TESTCONTAINERS_RYUK_DISABLED=true (the drill "
                "removes its container itself), or point DOCKER_HOST at the same engine"
            )
        if not testcontainers_config.ryuk_disabled:
            ryuk = testcontainers_config.ryuk_image
            self._ensure_image(
                ryuk,
                f"testcontainers starts its reaper {ryuk} first: run `docker pull {ryuk}`, point "
                "RYUK_CONTAINER_IMAGE at your registry's copy, or set TESTCONTAINERS_RYUK_DISABLED=true (the "
                "drill removes its container itself)",
            )
        labels = {LABEL: f"{time.time():.0f}", f"{LABEL}.image": self.image}
        container.with_kwargs(**{**getattr(container, "_kwargs", {}), "labels": labels})
        self.container = container
        try:
            container.start()
        except Exception as exc:  # noqa: BLE001 - engine errors come in many types
            self.stop()
            raise SandboxUnavailable(f"cannot start {self.image}: {_short(exc)}") from None
        except BaseException:  # SIGTERM or Ctrl-C while the server starts: the container goes too
            self.stop()
            raise

    def _ensure_image(self, image: str, fix: str) -> None:
        ensure_image(self.client, image, fix)

    def connection(self, port: int) -> tuple[str, int]:
        """Host and published port of the container's `port` (the container is removed when they cannot be
        read: the sandbox's teardown is not registered before start() returns). A remote engine's ports are
        on its host; a local one's where testcontainers finds them (localhost, or a gateway in a container)."""
        from opsverify.connect.docker import engine_hostname

        try:
            host = engine_hostname(self.docker_host) or str(self.container.get_container_host_ip())
            published = int(self.container.get_exposed_port(port))
        except Exception as exc:  # noqa: BLE001 - engine errors come in many types
            self.stop()
            raise SandboxUnavailable(
                f"cannot read the published port of {self.image}: {_short(exc)}"
            ) from None
        except BaseException:
            self.stop()
            raise
        if host == "localhost":
            host = "127.0.0.1"  # a MySQL client takes `localhost` for its unix socket
        return host, published

    def stop(self) -> None:
        container, self.container = self.container, None
        client, self.client = self.client, None
        wrapped = getattr(container, "_container", None)
        with contextlib.suppress(Exception):  # teardown goes on; the next docker drill reaps what is left
            if wrapped is not None:
                wrapped.remove(force=True, v=True)  # the container and its anonymous volumes
        with contextlib.suppress(Exception):
            if client is not None:
                client.close()


class _InContainer:
    """What both docker sandboxes share: a container runner, the admin URL once it runs, the engine check
    before anything starts, and teardown. A subclass says how to launch its server (`_launch`)."""

    kind = "docker"
    disposable = True
    image: str
    _runner: _Container
    _url = ""

    @property
    def admin_url(self) -> str:
        return self._url

    def describe(self) -> str:
        return f"docker sandbox {self.image}"

    def start(self) -> None:
        self._runner.open()
        self._url = self._launch(self._runner.password)

    def _launch(self, password: str) -> str:
        raise NotImplementedError

    def stop(self) -> None:
        self._runner.stop()


class DockerSandbox(_InContainer, Sandbox):
    """A disposable PostgreSQL container (testcontainers), removed with its volumes at teardown."""

    def __init__(
        self, dumped_from: str | None = None, image: str | None = None, docker_host: str | None = None
    ) -> None:
        self.image = image_for(dumped_from, image)
        self._runner = _Container(self.image, "PostgreSQL", docker_host)

    def _launch(self, password: str) -> str:
        from testcontainers.community.postgres import PostgresContainer

        self._runner.start(
            PostgresContainer(
                self.image,
                username="postgres",
                password=password,
                dbname="postgres",
                driver=None,
                docker_client_kw=self._runner.client_kw(),
            )
        )
        host, port = self._runner.connection(5432)
        return f"postgresql://postgres:{password}@{host}:{port}/postgres"


class MysqlDockerSandbox(_InContainer, MysqlSandbox):
    """A disposable MariaDB/MySQL container (testcontainers), removed with its volumes at teardown."""

    def __init__(
        self, server_version: str | None = None, image: str | None = None, docker_host: str | None = None
    ) -> None:
        self.image = mysql_image_for(server_version, image)
        self._runner = _Container(self.image, "MariaDB/MySQL", docker_host)

    def _launch(self, password: str) -> str:
        from testcontainers.community.mysql import MySqlContainer

        # MYSQL_ROOT_PASSWORD and MYSQL_DATABASE: read by the official mysql and mariadb images alike
        self._runner.start(
            MySqlContainer(
                self.image,
                username=_SANDBOX_USER,
                password=password,
                dbname="opsverify_sandbox",
                docker_client_kw=self._runner.client_kw(),
            )
        )
        host, port = self._runner.connection(3306)
        return f"mysql://{_SANDBOX_USER}:{password}@{host}:{port}/"
