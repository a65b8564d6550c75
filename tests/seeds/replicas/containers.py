"""A compose deployment stand-in on the test Docker Engine: one busybox container per service, labelled as
`docker compose` labels them, with a healthcheck a state can turn unhealthy and output a state can fill."""

from __future__ import annotations

import contextlib
import secrets
import shlex
import time
from typing import Any

import docker.errors

from tests.docker_engine import DockerEngine, busybox_image

SECOND = 1_000_000_000
FLAG = "/tmp/unhealthy"  # the healthcheck fails while this file exists


def unique_project(prefix: str) -> str:
    """A compose project name no other test process uses: the engine (and so container names) may be shared
    by xdist workers and other sessions, and `_create` removes a container of the same name."""
    return f"{prefix}{secrets.token_hex(4)}"


class ComposeStack:
    def __init__(
        self, engine: DockerEngine, project: str, services: list[str], healthchecked: list[str]
    ) -> None:
        self.client = engine.client()
        self.image = busybox_image(self.client)
        self.project, self.services, self.healthchecked = project, services, set(healthchecked)
        self.dirty: set[str] = set(services)  # services whose container is made anew at the next reset
        self.flagged: set[str] = set()  # services whose FLAG is set: a reset removes it (a docker exec)

    def name(self, service: str) -> str:
        return f"{self.project}-{service}-1"

    def container(self, service: str) -> Any:
        return self.client.containers.get(self.name(service))

    def _create(self, service: str) -> None:
        with contextlib.suppress(docker.errors.NotFound):
            self.container(service).remove(force=True)
        keys: dict[str, Any] = {}
        if service in self.healthchecked:
            keys["healthcheck"] = {
                "test": ["CMD-SHELL", f"test ! -e {FLAG} || {{ echo 'health check failed'; exit 1; }}"],
                "interval": SECOND // 4,
                # generous: an exec that is slow on a loaded machine must not turn a healthy service unhealthy;
                # a set FLAG fails at once, so three failures in a row still take under a second
                "timeout": 10 * SECOND,
                "retries": 3,
            }
        self.client.containers.run(
            self.image,
            ["sleep", "86400"],
            name=self.name(service),
            detach=True,
            network_mode="none",
            labels={"com.docker.compose.project": self.project, "com.docker.compose.service": service},
            **keys,
        )

    def reset(self) -> None:
        """Every service running and healthy, with no output."""
        for service in self.services:
            if service in self.dirty:
                self._create(service)
            else:
                container = self.container(service)
                if container.status != "running":
                    container.start()
                if service in self.flagged:
                    container.exec_run(["rm", "-f", FLAG])
        self.dirty.clear()
        self.flagged.clear()
        self.wait(dict.fromkeys(self.healthchecked, "healthy"))

    def wait(self, health: dict[str, str], timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = {s: (self.container(s).attrs["State"].get("Health") or {}).get("Status") for s in health}
            if states == health:
                return
            time.sleep(0.1)
        raise RuntimeError(f"containers of {self.project} did not become {health} within {timeout:g}s")

    def unhealthy(self, service: str) -> None:
        self.flagged.add(service)
        self.container(service).exec_run(["touch", FLAG])
        self.wait({service: "unhealthy"})

    def stop(self, service: str) -> None:
        self.container(service).stop(timeout=0)

    def output(self, service: str, lines: list[str]) -> None:
        """Lines on the service's stdout, as its process would print them (`docker logs` shows them)."""
        text = "".join(f"{line}\n" for line in lines)
        self.container(service).exec_run(["sh", "-c", f"printf %s {shlex.quote(text)} > /proc/1/fd/1"])
        self.dirty.add(service)

    def down(self) -> None:
        for service in self.services:
            with contextlib.suppress(docker.errors.NotFound):
                self.container(service).remove(force=True)
        self.client.close()
