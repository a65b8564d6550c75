"""What about a deployment's containers contradicts its `docker:` entry."""

from __future__ import annotations

from opsverify.kinds.docker.facts import DockerFacts
from opsverify.kinds.docker.model import DockerCheck
from opsverify.problem import Judgement, Problem
from opsverify.units import human_duration

START_FIX = (
    "start it (`docker compose up -d SERVICE`) and read why it stopped (`docker compose logs SERVICE`)"
)
HEALTH_FIX = "read the healthcheck's output (`docker inspect --format '{{json .State.Health}}' NAME`)"


def judge(entry: DockerCheck, facts: DockerFacts, rule: str | None = None) -> Judgement:
    """`rule` is unused: docker entries have no rules."""
    if facts.error:
        return Judgement([Problem("docker", facts.error)])
    problems = [
        Problem(f"service {name}" if entry.project else f"container {name}", "no container", expected="a container",
                fix=f"deploy it (`docker compose -p {entry.project} up -d`)" if entry.project else "check the name with `docker ps -a`")
        for name in facts.missing
    ]  # fmt: skip
    for c in facts.containers:
        subject = f"container {c.name}"
        if entry.running and c.status != "running":
            problems.append(
                Problem(subject, f"{c.status} (exit code {c.exit_code})", expected="running", fix=START_FIX)
            )
            continue
        if entry.healthy and c.health is None and entry.require_healthcheck:
            problems.append(
                Problem(
                    subject,
                    "no healthcheck",
                    expected="a healthcheck",
                    fix="add `healthcheck:` to the service",
                )
            )
        if entry.healthy and c.health not in (None, "healthy"):
            limit = entry.max_unhealthy_for
            lasted = c.unhealthy_for or 0.0
            if limit is None or lasted > limit:
                found = f"{c.health} for {human_duration(lasted)}"
                if c.health_output:
                    found += f" (last check said: {c.health_output})"
                wanted = (
                    "healthy"
                    if limit is None
                    else f"healthy, or unhealthy for at most {human_duration(limit)}"
                )
                problems.append(Problem(subject, found, expected=wanted, fix=HEALTH_FIX))
        if entry.max_restarts is not None and c.restarts > entry.max_restarts:
            problems.append(
                Problem(
                    f"{subject} restarts",
                    str(c.restarts),
                    expected=f"at most {entry.max_restarts}",
                    fix="read why it crashes: `docker logs NAME`, `docker inspect NAME` (OOMKilled?)",
                )
            )
        since = entry.max_restarts_since_last_run
        if since is not None and c.restarts_before is not None and c.restarts - c.restarts_before > since:
            problems.append(
                Problem(
                    f"{subject} restarts since the last run",
                    str(c.restarts - c.restarts_before),
                    expected=f"at most {since}",
                    fix="read why it crashes: `docker logs NAME`",
                )
            )
        if entry.max_memory_pct is not None:
            if c.memory_error:
                problems.append(Problem(f"{subject} memory", c.memory_error))
            elif c.memory_pct is not None and c.memory_pct > entry.max_memory_pct:
                problems.append(
                    Problem(
                        f"{subject} memory",
                        f"{c.memory_pct:.1f}% of {c.memory_limit_source}",
                        expected=f"at most {entry.max_memory_pct:g}%",
                        fix="find the leak, or raise the limit (`mem_limit:`)",
                    )
                )
    if not facts.containers and not problems:
        problems.append(Problem("docker", f"no container matches {facts.selector}"))
    return Judgement(problems, facts.summary() if problems else "")
