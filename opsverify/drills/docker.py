"""The `docker` sandbox: a testcontainers PostgreSQL whose major version matches the dump's origin."""

from __future__ import annotations

import contextlib
import gc
import re
import secrets
import warnings
from typing import Any

from opsverify.drills.sandbox import Sandbox, SandboxUnavailable

DEFAULT_IMAGE = "postgres:17"
PING_TIMEOUT = 5


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


def docker_unavailable_reason() -> str | None:
    """Why no Docker engine can be used (None when one answers a ping within the timeout)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)  # docker-py leaves its socket to the GC on failure
        reason = _ping()
        gc.collect()
    return reason


def _ping() -> str | None:
    try:
        import docker
    except ImportError:
        return "the docker Python package is not installed (pip install 'testcontainers[postgres]')"
    try:
        client = docker.from_env(timeout=PING_TIMEOUT)
    except Exception as exc:  # noqa: BLE001 - docker-py raises DockerException and plain OSErrors alike
        return f"no Docker engine ({_short(exc)}); start Docker or set DOCKER_HOST"
    try:
        client.ping()
    except Exception as exc:  # noqa: BLE001 - same reason
        return f"the Docker engine does not answer ({_short(exc)})"
    finally:
        client.close()
    return None


def _short(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__


class DockerSandbox(Sandbox):
    """A disposable PostgreSQL container (testcontainers), removed at teardown."""

    kind = "docker"
    disposable = True

    def __init__(self, dumped_from: str | None = None, image: str | None = None) -> None:
        self.image = image_for(dumped_from, image)
        self._password = secrets.token_urlsafe(18)
        self._container: Any = None
        self._url = ""

    @property
    def admin_url(self) -> str:
        return self._url

    def describe(self) -> str:
        return f"docker sandbox {self.image}"

    def start(self) -> None:
        reason = docker_unavailable_reason()
        if reason:
            raise SandboxUnavailable(reason)
        from testcontainers.community.postgres import PostgresContainer

        from opsverify.redaction import SECRETS

        SECRETS.add(self._password)
        container = PostgresContainer(
            self.image, username="postgres", password=self._password, dbname="postgres", driver=None
        )
        self._container = container
        try:
            container.start()
        except Exception as exc:  # noqa: BLE001 - image pulls and engine errors come in many types
            self.stop()
            raise SandboxUnavailable(f"cannot start {self.image}: {_short(exc)}") from None
        self._url = container.get_connection_url()

    def stop(self) -> None:
        container, self._container = self._container, None
        if container is not None:
            with contextlib.suppress(Exception):  # teardown goes on; Ryuk removes the container later
                container.stop()
