"""Each docker limit at its edge, from constructed facts (no engine): all are "at most", the limit included.

`max_unhealthy_for` (seconds), `max_restarts` and `max_restarts_since_last_run` (restarts), `max_memory_pct`
(percent of the limit). Then the rest of the verdict, from the same constructed facts: the engine's error,
missing and stopped containers, the healthcheck, each problem's fix and the evidence.
"""

from __future__ import annotations

from typing import Any

import pytest

from opsverify.kinds.docker.facts import ContainerFacts, DockerFacts
from opsverify.kinds.docker.model import DockerCheck
from opsverify.kinds.docker.verdict import HEALTH_FIX, START_FIX, judge
from opsverify.problem import Judgement, Problem


def entry(**keys: Any) -> DockerCheck:
    return DockerCheck.model_validate({"containers": ["web"], **keys})


def container(**keys: Any) -> ContainerFacts:
    return ContainerFacts(**{"name": "web", "service": "web", "status": "running", **keys})


def problems(check: DockerCheck, *containers: ContainerFacts) -> list[Problem]:
    return judge(check, DockerFacts("local engine", "containers web", list(containers))).problems


def test_a_healthy_running_container_passes() -> None:
    assert problems(entry(max_restarts=0, max_memory_pct=80), container(health="healthy")) == []


@pytest.mark.parametrize(("lasted", "fails"), [(299.0, False), (300.0, False), (301.0, True)])
def test_max_unhealthy_for_is_at_most_the_limit(lasted: float, fails: bool) -> None:
    found = problems(entry(max_unhealthy_for="5m"), container(health="unhealthy", unhealthy_for=lasted))
    if fails:
        assert found == [
            Problem(
                "container web",
                "unhealthy for 5m",
                expected="healthy, or unhealthy for at most 5m",
                fix=HEALTH_FIX,
            )
        ]
    else:
        assert found == []


def test_without_max_unhealthy_for_any_unhealthy_streak_fails() -> None:
    (problem,) = problems(
        entry(), container(health="starting", unhealthy_for=None, health_output="curl: (7)")
    )
    assert (problem.found, problem.expected) == ("starting for 0ms (last check said: curl: (7))", "healthy")


@pytest.mark.parametrize(("restarts", "fails"), [(2, False), (3, False), (4, True)])
def test_max_restarts_is_at_most_the_limit(restarts: int, fails: bool) -> None:
    found = [
        (p.subject, p.found, p.expected)
        for p in problems(entry(max_restarts=3), container(restarts=restarts))
    ]
    assert found == ([("container web restarts", "4", "at most 3")] if fails else [])


@pytest.mark.parametrize(("restarts", "fails"), [(11, False), (12, False), (13, True)])
def test_max_restarts_since_last_run_is_at_most_the_limit(restarts: int, fails: bool) -> None:
    """10 restarts at the last run, a limit of 2: 12 now passes, 13 fails."""
    check = entry(max_restarts_since_last_run=2)
    found = problems(check, container(restarts=restarts, restarts_before=10))
    expected = [("container web restarts since the last run", "3", "at most 2")] if fails else []
    assert [(p.subject, p.found, p.expected) for p in found] == expected


@pytest.mark.parametrize(("used", "fails"), [(799, False), (800, False), (801, True)])
def test_max_memory_pct_is_at_most_the_limit(used: int, fails: bool) -> None:
    """80 % of a 1000-byte limit: 800 bytes used passes, 801 (80.1 %) fails."""
    found = problems(
        entry(max_memory_pct=80),
        container(memory_used=used, memory_limit=1000, memory_limit_source="mem_limit"),
    )
    if fails:
        assert [(p.subject, p.found, p.expected) for p in found] == [
            ("container web memory", "80.1% of mem_limit", "at most 80%")
        ]
    else:
        assert found == []


RESTART_FIX = "read why it crashes: `docker logs NAME`, `docker inspect NAME` (OOMKilled?)"


def facts(*containers: ContainerFacts, missing: tuple[str, ...] = ()) -> DockerFacts:
    return DockerFacts("local engine", "containers web", list(containers), list(missing))


def test_an_engine_error_is_the_only_problem_and_has_no_evidence() -> None:
    engine_down = DockerFacts("local engine", "containers web", error="Cannot connect to the Docker daemon")
    assert judge(entry(), engine_down) == Judgement(
        [Problem("docker", "Cannot connect to the Docker daemon")]
    )


def test_a_missing_compose_service_is_deployed_and_a_missing_container_is_looked_up() -> None:
    compose = DockerCheck.model_validate({"project": "shop", "services": ["web", "db"]})
    assert judge(compose, facts(container(), missing=("db",))).problems == [
        Problem(
            "service db",
            "no container",
            expected="a container",
            fix="deploy it (`docker compose -p shop up -d`)",
        )
    ]
    assert judge(entry(), facts(missing=("web",))).problems == [
        Problem(
            "container web", "no container", expected="a container", fix="check the name with `docker ps -a`"
        )
    ]


def test_no_container_at_all_names_the_selector() -> None:
    assert problems(entry()) == [Problem("docker", "no container matches containers web")]


def test_a_stopped_container_is_one_problem_and_the_next_container_is_still_judged() -> None:
    check = entry(containers=["web", "worker"], max_restarts=3)
    stopped = container(status="exited", exit_code=137, restarts=9)
    flapping = container(name="worker", restarts=4)
    assert problems(check, stopped, flapping) == [
        Problem("container web", "exited (exit code 137)", expected="running", fix=START_FIX),
        Problem("container worker restarts", "4", expected="at most 3", fix=RESTART_FIX),
    ]
    assert problems(entry(running=False), container(status="exited")) == []


def test_require_healthcheck_fails_a_container_without_one() -> None:
    assert problems(entry(require_healthcheck=True), container()) == [
        Problem(
            "container web",
            "no healthcheck",
            expected="a healthcheck",
            fix="add `healthcheck:` to the service",
        )
    ]
    assert problems(entry(require_healthcheck=True), container(health="healthy")) == []
    assert problems(entry(require_healthcheck=True, healthy=False), container()) == []
    assert problems(entry(), container()) == []


def test_healthy_false_ignores_the_healthcheck() -> None:
    assert problems(entry(healthy=False), container(health="unhealthy", unhealthy_for=3600.0)) == []


def test_restarts_since_the_last_run_need_a_last_run() -> None:
    check = entry(max_restarts_since_last_run=0)
    assert problems(check, container(restarts=5)) == []
    assert problems(check, container(restarts=5, restarts_before=4)) == [
        Problem(
            "container web restarts since the last run",
            "1",
            expected="at most 0",
            fix="read why it crashes: `docker logs NAME`",
        )
    ]


def test_memory_that_cannot_be_read_is_a_problem_only_under_max_memory_pct() -> None:
    unreadable = container(memory_error="no stats: container paused")
    assert problems(entry(max_memory_pct=80), unreadable) == [
        Problem("container web memory", "no stats: container paused")
    ]
    assert problems(entry(), unreadable) == []
    assert problems(entry(max_memory_pct=80), container(memory_used=900)) == []  # no limit: no percent


def test_memory_over_the_limit_says_how_to_fix_it() -> None:
    used = container(memory_used=900, memory_limit=1000, memory_limit_source="mem_limit")
    assert problems(entry(max_memory_pct=80), used) == [
        Problem(
            "container web memory",
            "90.0% of mem_limit",
            expected="at most 80%",
            fix="find the leak, or raise the limit (`mem_limit:`)",
        )
    ]


def test_a_failing_check_shows_the_containers_and_a_passing_one_nothing() -> None:
    failing = facts(container(restarts=4))
    assert judge(entry(max_restarts=3), failing).evidence == failing.summary()
    assert "web (web): running" in failing.summary()
    assert judge(entry(max_restarts=3), facts(container())) == Judgement([], "")
