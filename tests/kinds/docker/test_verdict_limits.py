"""Each docker limit at its edge, from constructed facts (no engine): all are "at most", the limit included.

`max_unhealthy_for` (seconds), `max_restarts` and `max_restarts_since_last_run` (restarts), `max_memory_pct`
(percent of the limit).
"""

from __future__ import annotations

from typing import Any

import pytest

from opsverify.kinds.docker.facts import ContainerFacts, DockerFacts
from opsverify.kinds.docker.model import DockerCheck
from opsverify.kinds.docker.verdict import HEALTH_FIX, judge
from opsverify.problem import Problem


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
