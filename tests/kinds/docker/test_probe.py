"""The docker kind against a real Docker Engine: running, healthy, restarts, unhealthy-for, memory,
missing services, an engine that does not answer, end to end."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

from opsverify.kinds.base import ProbeContext
from opsverify.kinds.docker.model import DockerCheck
from opsverify.kinds.docker.probe import probe
from opsverify.kinds.docker.verdict import judge


def run(deployment: dict[str, Any], **keys: Any) -> tuple[Any, list[str]]:
    entry = DockerCheck.model_validate({"docker_host": deployment["engine"], **keys})
    facts = probe(entry, ProbeContext("t", entry_name="x"))
    return facts, [problem.text for problem in judge(entry, facts).problems]


def test_healthy_service_passes(deployment: dict[str, Any]) -> None:
    facts, problems = run(
        deployment, project=deployment["project"], services=["api"], require_healthcheck=True
    )
    assert problems == []
    (api,) = facts.containers
    assert (api.service, api.status, api.health) == ("api", "running", "healthy")


def test_unhealthy_missing_exited_and_restarts(deployment: dict[str, Any]) -> None:
    project = deployment["project"]
    facts, problems = run(
        deployment, project=project, services=["api", "web", "worker", "db", "redis"], max_restarts=1
    )
    assert problems[0].startswith("service redis: expected a container, got no container")
    text = "\n".join(problems)
    assert f"container {project}-web-1: expected healthy, got unhealthy for" in text
    assert "GET /healthz -> 503" in text
    assert f"container {project}-worker-1: expected running, got exited (exit code 3)" in text
    assert f"container {project}-db-1: expected running, got exited (exit code 1)" in text
    worker = next(c for c in facts.containers if c.service == "worker")
    assert worker.restarts >= 2
    facts, problems = run(deployment, project=project, services=["worker"], running=False, max_restarts=1)
    assert problems == [f"container {project}-worker-1 restarts: expected at most 1, got {worker.restarts}; "
                        "read why it crashes: `docker logs NAME`, `docker inspect NAME` (OOMKilled?)"]  # fmt: skip


def test_unhealthy_for_a_while_is_tolerated(deployment: dict[str, Any]) -> None:
    _facts, problems = run(
        deployment, project=deployment["project"], services=["web"], max_unhealthy_for="1h"
    )
    assert problems == []
    _facts, problems = run(
        deployment, project=deployment["project"], services=["web"], max_unhealthy_for="1ms"
    )
    (problem,) = problems
    assert "expected healthy, or unhealthy for at most" in problem


def test_memory_against_the_limit(deployment: dict[str, Any]) -> None:
    facts, problems = run(deployment, containers=[f"{deployment['project']}-cache-1"], max_memory_pct=90)
    (cache,) = facts.containers
    assert cache.memory_error is None, cache.memory_error
    assert cache.memory_limit == 64 * 1024 * 1024
    assert cache.memory_limit_source == "its memory limit"
    assert problems == []
    _facts, problems = run(deployment, containers=[f"{deployment['project']}-cache-1"], max_memory_pct=0.0001)
    (problem,) = problems
    assert "memory: expected at most 0.0001%, got" in problem


def test_restarts_since_last_run(
    deployment: dict[str, Any], tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPSVERIFY_STATE_DIR", str(tmp_path))
    keys = {
        "project": deployment["project"],
        "services": ["worker"],
        "running": False,
        "max_restarts_since_last_run": 0,
    }
    facts, problems = run(deployment, **keys)
    assert problems == []  # the first run records the count
    assert facts.containers[0].restarts_before is None
    facts, problems = run(deployment, **keys)
    assert facts.containers[0].restarts_before == facts.containers[0].restarts
    assert problems == []


def test_missing_container_and_silent_engine(deployment: dict[str, Any], tmp_path: Any) -> None:
    _facts, problems = run(deployment, containers=["no-such-container"])
    assert problems == [
        "container no-such-container: expected a container, got no container; check the name with `docker ps -a`"
    ]
    entry = DockerCheck.model_validate(
        {"containers": ["x"], "docker_host": f"unix://{tmp_path}/none.sock", "timeout": 2}
    )
    (problem,) = judge(entry, probe(entry, ProbeContext("t"))).problems
    assert problem.text.startswith(
        f"docker: the Docker engine at unix://{tmp_path}/none.sock does not answer"
    )
    assert "DOCKER_HOST" in problem.text


def test_bad_input() -> None:
    with pytest.raises(ValidationError, match="say which containers"):
        DockerCheck.model_validate({})
    with pytest.raises(ValidationError, match="`services:` needs `project:`"):
        DockerCheck.model_validate({"containers": ["a"], "services": ["b"]})


def test_end_to_end(deployment: dict[str, Any], run_checks: Callable[..., Any]) -> None:
    target = (
        f"target: t\ndocker:\n  app:\n    project: {deployment['project']}\n    services: [api, cache]\n"
        f"  broken:\n    project: {deployment['project']}\n    services: [web, redis]\n"
    )
    result = run_checks(target, "-m", "smoke", env={"DOCKER_HOST": deployment["engine"]})
    assert result.returncode == 1, result.output
    assert "1 failed, 1 passed" in result.output
    assert "service redis" in result.output
