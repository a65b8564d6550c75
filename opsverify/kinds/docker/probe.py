"""docker probe: the containers of a compose project (or named ones) through the Docker Engine API."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from typing import Any

import docker
import docker.errors
import requests

from opsverify.connect import ConnectError
from opsverify.connect.docker import engine_client, engine_name, short
from opsverify.kinds.base import ProbeContext
from opsverify.kinds.docker.facts import ContainerFacts, DockerFacts
from opsverify.kinds.docker.model import DockerCheck
from opsverify.paths import state_dir

PROJECT = "com.docker.compose.project"
SERVICE = "com.docker.compose.service"
DEFAULT_HEALTH_INTERVAL = 30.0


def probe(entry: DockerCheck, ctx: ProbeContext) -> DockerFacts:
    """Unreachable engines become `facts.error`; missing services are listed in `facts.missing`."""
    selector = f"project {entry.project}" if entry.project else f"containers {', '.join(entry.containers)}"
    facts = DockerFacts(entry.docker_host or engine_name(), selector)
    try:
        client = engine_client(entry.docker_host, entry.timeout)
    except ConnectError as exc:
        facts.error = str(exc)
        return facts
    try:
        containers = _select(client, entry, facts)
        for container in containers:
            facts.containers.append(_observe(client, container, entry))
    except (docker.errors.DockerException, requests.RequestException) as exc:
        facts.error = f"the Docker engine at {facts.engine} failed: {short(exc)}"
    finally:
        client.close()
    if entry.max_restarts_since_last_run is not None and not facts.error:
        _restarts_since_last_run(facts, ctx)
    return facts


def _select(client: docker.DockerClient, entry: DockerCheck, facts: DockerFacts) -> list[Any]:
    if entry.project is not None:
        found = client.containers.list(all=True, filters={"label": f"{PROJECT}={entry.project}"})
        services = {c.labels.get(SERVICE, c.name) for c in found}
        facts.missing = [service for service in entry.services if service not in services]
        if entry.services:
            found = [c for c in found if c.labels.get(SERVICE) in entry.services]
        if not found and not facts.missing:
            facts.missing = [f"any container of compose project {entry.project}"]
        return sorted(found, key=lambda c: (c.labels.get(SERVICE, ""), c.name))
    found = []
    for name in entry.containers:
        try:
            found.append(client.containers.get(name))
        except docker.errors.NotFound:
            facts.missing.append(name)
    return found


def _observe(client: docker.DockerClient, container: Any, entry: DockerCheck) -> ContainerFacts:
    attrs = container.attrs
    state = attrs.get("State", {})
    facts = ContainerFacts(
        name=container.name,
        service=container.labels.get(SERVICE, container.name),
        status=str(state.get("Status", "unknown")),
        exit_code=int(state.get("ExitCode", 0) or 0),
        restarts=int(attrs.get("RestartCount", 0) or 0),
    )
    facts.container_id = str(container.id)
    health = state.get("Health")
    if health:
        facts.health = str(health.get("Status"))
        if facts.health != "healthy":
            interval = (attrs.get("Config", {}).get("Healthcheck", {}) or {}).get("Interval") or 0
            facts.unhealthy_for = unhealthy_for(health, interval / 1e9 or DEFAULT_HEALTH_INTERVAL, state)
            failed = [log for log in health.get("Log") or [] if log.get("ExitCode") != 0]
            if failed:
                facts.health_output = re.sub(r"\s+", " ", str(failed[-1].get("Output", ""))).strip()[:200]
    if entry.max_memory_pct is not None and facts.status == "running":
        _memory(client, container, attrs, facts)
    return facts


def parse_time(text: str) -> datetime | None:
    """Docker's RFC 3339 times with nanoseconds (`2024-05-01T10:00:00.123456789Z`)."""
    match = re.match(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})", text or "")
    if not match or match[1].startswith("0001"):
        return None
    fraction = (match[2] or ".0")[:7]
    zone = "+00:00" if match[3] == "Z" else match[3]
    return datetime.fromisoformat(f"{match[1]}{fraction}{zone}")


def unhealthy_for(health: dict[str, Any], interval: float, state: dict[str, Any]) -> float:
    """How long the current failing streak (or the start period) has lasted.

    Docker keeps the last 5 probes: when the streak is longer, its start is extrapolated by the interval.
    A container still `starting` counts from its start.
    """
    now = datetime.now(UTC)
    if health.get("Status") == "starting":
        started = parse_time(str(state.get("StartedAt", "")))
        return max(0.0, (now - started).total_seconds()) if started else 0.0
    log = health.get("Log") or []
    streak = int(health.get("FailingStreak", 0) or 0)
    if not log or streak == 0:
        return 0.0
    tail = log[-streak:] if streak <= len(log) else log
    first = parse_time(str(tail[0].get("Start", "")))
    if first is None:
        return streak * interval
    extra = max(0, streak - len(log)) * interval
    return max(0.0, (now - first).total_seconds()) + extra


def _memory(
    client: docker.DockerClient, container: Any, attrs: dict[str, Any], facts: ContainerFacts
) -> None:
    try:
        stats = client.api.stats(container.id, stream=False, one_shot=True)
    except (docker.errors.DockerException, requests.RequestException) as exc:
        facts.memory_error = f"cannot read the stats of {facts.name}: {short(exc)}"
        return
    memory = stats.get("memory_stats") or {}
    usage = memory.get("usage")
    if usage is None:
        facts.memory_error = (
            f"the engine reports no memory use for {facts.name} (cgroup memory accounting off?)"
        )
        return
    detail = memory.get("stats") or {}
    cache = detail.get("inactive_file", detail.get("total_inactive_file", detail.get("cache", 0)))
    facts.memory_used = max(0, int(usage) - int(cache or 0))  # as `docker stats` shows it
    configured = int((attrs.get("HostConfig") or {}).get("Memory") or 0)
    if configured:
        facts.memory_limit, facts.memory_limit_source = configured, "its memory limit"
    else:
        facts.memory_limit = int(memory.get("limit") or 0)
        facts.memory_limit_source = "no limit set: the engine host's memory"


def _restarts_since_last_run(facts: DockerFacts, ctx: ProbeContext) -> None:
    """Compare RestartCount with the one recorded at the last run (per container id), then record it."""
    path = state_dir() / "docker-restarts.json"
    key = f"{ctx.target_name}/{ctx.entry_name}"
    try:
        recorded: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    except (OSError, ValueError):
        recorded = {}
    before = recorded.get(key, {})
    now = {}
    for container in facts.containers:
        cid = container.container_id or container.name
        if cid in before:
            container.restarts_before = int(before[cid])
        now[cid] = container.restarts
    recorded[key] = now
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{time.monotonic_ns()}.tmp")
        temporary.write_text(json.dumps(recorded, indent=1, sort_keys=True))
        temporary.replace(path)
    except OSError:
        pass
