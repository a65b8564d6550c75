"""A compose-like deployment on the real Docker Engine: containers labelled as compose project `cleaning`."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.docker_engine import DockerEngine, busybox_image

SECOND = 1_000_000_000


def compose_labels(project: str, service: str) -> dict[str, str]:
    return {"com.docker.compose.project": project, "com.docker.compose.service": service}


@pytest.fixture(scope="session")
def deployment(docker_engine: DockerEngine) -> Iterator[dict[str, Any]]:
    """api (healthy), web (healthcheck fails), worker (crashes and restarts), db (exited), cache (memory
    limit 64 MiB), logger (writes ERROR lines to stdout and stderr)."""
    client = docker_engine.client()
    image = busybox_image(client)
    project = f"cleaning{secrets.token_hex(4)}"  # unique: workers and sessions share the engine
    common: dict[str, Any] = {"image": image, "detach": True, "network_mode": "none"}
    health = {"interval": SECOND // 2, "timeout": SECOND, "retries": 1, "start_period": 0}
    made = [
        client.containers.run(**common, name=f"{project}-api-1", command=["sleep", "3600"],
                               labels=compose_labels(project, "api"),
                               healthcheck={"test": ["CMD", "true"], **health}),
        client.containers.run(**common, name=f"{project}-web-1", command=["sleep", "3600"],
                              labels=compose_labels(project, "web"),
                              healthcheck={"test": ["CMD-SHELL", "echo 'GET /healthz -> 503'; exit 1"], **health}),
        client.containers.run(**common, name=f"{project}-worker-1", command=["sh", "-c", "sleep 0.1; exit 3"],
                              labels=compose_labels(project, "worker"),
                              restart_policy={"Name": "on-failure", "MaximumRetryCount": 2}),
        client.containers.run(**common, name=f"{project}-db-1", command=["sh", "-c", "exit 1"],
                              labels=compose_labels(project, "db")),
        client.containers.run(**common, name=f"{project}-cache-1", command=["sleep", "3600"],
                              labels=compose_labels(project, "cache"), mem_limit="64m"),
        client.containers.run(**common, name=f"{project}-logger-1", labels=compose_labels(project, "logger"),
                              command=["sh", "-c", "echo 'INFO started'; echo 'ERROR smtp timeout' >&2; "
                                       "echo '{\"level\": \"ERROR\", \"message\": \"db down\"}'; "
                                       "echo 'authentication failed for user admin'; sleep 3600"]),
    ]  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        web = client.containers.get(f"{project}-web-1")
        worker = client.containers.get(f"{project}-worker-1")
        api = client.containers.get(f"{project}-api-1")
        done = (
            web.attrs["State"].get("Health", {}).get("Status") == "unhealthy"
            and api.attrs["State"].get("Health", {}).get("Status") == "healthy"
            and worker.attrs["RestartCount"] >= 2
            and worker.attrs["State"]["Status"] == "exited"
        )
        if done:
            break
        time.sleep(0.3)
    else:
        raise RuntimeError("the test deployment did not settle within 30 s")
    yield {"project": project, "engine": docker_engine.base_url, "image": image, "client": client}
    for container in made:
        container.remove(force=True)
    client.close()
