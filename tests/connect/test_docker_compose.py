"""`docker://compose/PROJECT/SERVICE` against a real Docker Engine: the container found by compose's labels
(the first healthy replica, never a one-off `docker compose run`), and the errors with the fix when no
container runs, none exists, or two compose files share the project name."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest

from opsverify.connect import ConnectError, Via, connect
from tests.deployment import SECOND, compose_labels


def compose_via(deployment: dict[str, Any], project: str, service: str) -> Via:
    return Via.model_validate(
        {"url": f"docker://compose/{project}/{service}", "docker_host": deployment["engine"], "timeout": 10}
    )


def test_the_container_is_found_by_its_labels(deployment: dict[str, Any]) -> None:
    project = deployment["project"]
    with connect(compose_via(deployment, project, "api")) as machine:
        assert machine.where == f"container {project}-api-1 (compose service api)"
        result = machine.run(["echo", "inside"], timeout=10)
        assert (result.exit_code, result.text()) == (0, "inside\n")


def test_a_service_that_does_not_run_names_its_containers_and_the_fix(deployment: dict[str, Any]) -> None:
    project = deployment["project"]
    expected = (
        f"no container of compose project {project}, service db is running ({project}-db-1 is exited); "
        f"start it with `docker compose -p {project} up -d db`"
    )
    with pytest.raises(ConnectError) as caught, connect(compose_via(deployment, project, "db")):
        pass
    assert str(caught.value) == expected


def test_a_service_with_no_container_says_which_labels_were_looked_for(deployment: dict[str, Any]) -> None:
    project = deployment["project"]
    with pytest.raises(ConnectError) as caught, connect(compose_via(deployment, project, "nosuch")):
        pass
    message = str(caught.value)
    assert f"no container of compose project {project}, service nosuch on the Docker engine at" in message
    assert f"com.docker.compose.project={project} and com.docker.compose.service=nosuch" in message
    assert f"`docker compose -p {project} up -d nosuch`" in message
    assert "`docker compose ls`" in message


@pytest.fixture
def replicas(deployment: dict[str, Any]) -> Iterator[tuple[str, list[Any]]]:
    """Service `app` of a fresh project: replica 1 unhealthy, 3 and 2 healthy (made in that order), and a
    one-off container numbered 0 without a healthcheck (`docker compose run`), once their health settled."""
    client = deployment["client"]
    project = f"replicas{secrets.token_hex(4)}"
    health = {"interval": SECOND // 2, "timeout": SECOND, "retries": 1, "start_period": 0}
    made: list[Any] = []

    def start(number: int, test: list[str] | None, **labels: str) -> None:
        made.append(
            client.containers.run(
                deployment["image"],
                detach=True,
                network_mode="none",
                name=f"{project}_app_{number}{'_oneoff' if labels else ''}",
                command=["sleep", "3600"],
                labels={
                    **compose_labels(project, "app"),
                    "com.docker.compose.container-number": str(number),
                    **labels,
                },
                healthcheck={"test": test, **health} if test else None,
            )
        )

    try:
        start(1, ["CMD", "false"])
        start(3, ["CMD", "true"])
        start(2, ["CMD", "true"])
        start(0, None, **{"com.docker.compose.oneoff": "True"})
        deadline = time.monotonic() + 30
        wanted = ["unhealthy", "healthy", "healthy"]
        while [c.attrs["State"].get("Health", {}).get("Status") for c in _reloaded(made[:3])] != wanted:
            if time.monotonic() > deadline:
                raise RuntimeError("the replicas' healthchecks did not settle within 30 s")
            time.sleep(0.3)
        yield project, made
    finally:
        for container in made:
            container.remove(force=True)


def _reloaded(containers: list[Any]) -> list[Any]:
    for container in containers:
        container.reload()
    return containers


def test_the_first_healthy_replica_is_chosen_never_a_one_off(
    deployment: dict[str, Any], replicas: tuple[str, list[Any]]
) -> None:
    project, _ = replicas
    with connect(compose_via(deployment, project, "app")) as machine:
        assert machine.where == f"container {project}_app_2 (compose service app)"


def test_without_a_healthy_replica_the_first_running_one_is_chosen(
    deployment: dict[str, Any], replicas: tuple[str, list[Any]]
) -> None:
    project, made = replicas
    for container in made[1:3]:
        container.stop(timeout=0)
    with connect(compose_via(deployment, project, "app")) as machine:
        assert machine.where == f"container {project}_app_1 (compose service app)"


def test_one_project_name_from_two_compose_files_is_ambiguous(deployment: dict[str, Any]) -> None:
    client = deployment["client"]
    project = f"twice{secrets.token_hex(4)}"
    made = [
        client.containers.run(
            deployment["image"],
            detach=True,
            network_mode="none",
            name=f"{project}-app-{number}",
            command=["sleep", "3600"],
            labels={**compose_labels(project, "app"), "com.docker.compose.project.working_dir": folder},
        )
        for number, folder in ((1, "/srv/shop"), (2, "/srv/blog"))
    ]
    try:
        with pytest.raises(ConnectError) as caught, connect(compose_via(deployment, project, "app")):
            pass
    finally:
        for container in made:
            container.remove(force=True)
    message = str(caught.value)
    assert f"compose project {project}, service app is ambiguous" in message
    assert "2 folders (/srv/blog, /srv/shop)" in message
    assert "give each project its own name" in message
