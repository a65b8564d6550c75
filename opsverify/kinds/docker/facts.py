"""What the docker probe observed: each selected container's state, health, restarts and memory."""

from __future__ import annotations

from dataclasses import dataclass, field

from opsverify.kinds.base import Phase
from opsverify.units import format_size, human_duration


@dataclass
class ContainerFacts:
    name: str
    service: str  # the compose service, or the name
    status: str  # running, exited, restarting, paused, created, dead
    exit_code: int = 0
    health: str | None = None  # healthy, unhealthy, starting; None: no healthcheck
    unhealthy_for: float | None = None  # seconds the current failing streak has lasted
    health_output: str = ""  # the last failing probe's output
    restarts: int = 0
    restarts_before: int | None = None  # RestartCount at the last run (same container id)
    memory_used: int | None = None
    memory_limit: int | None = None
    memory_limit_source: str = ""
    memory_error: str | None = None
    container_id: str = ""

    @property
    def memory_pct(self) -> float | None:
        if self.memory_used is None or not self.memory_limit:
            return None
        return 100.0 * self.memory_used / self.memory_limit

    def line(self) -> str:
        parts = [f"{self.name} ({self.service}): {self.status}"]
        if self.status != "running":
            parts[0] += f" (exit {self.exit_code})"
        if self.health:
            streak = f" for {human_duration(self.unhealthy_for)}" if self.unhealthy_for else ""
            parts.append(f"{self.health}{streak if self.health != 'healthy' else ''}")
        parts.append(f"{self.restarts} restarts")
        if self.memory_pct is not None and self.memory_used is not None and self.memory_limit is not None:
            parts.append(
                f"memory {format_size(self.memory_used)} of {format_size(self.memory_limit)} "
                f"({self.memory_limit_source}) = {self.memory_pct:.1f}%"
            )
        return ", ".join(parts)


@dataclass
class DockerFacts:
    engine: str
    selector: str  # `project cleaning` or `containers a, b`
    containers: list[ContainerFacts] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # expected services/names with no container
    error: str | None = None

    def phases(self) -> list[Phase]:
        if self.error:
            return [Phase(f"list containers of {self.selector} on {self.engine}", False, self.error)]
        phases = [Phase(f"list containers of {self.selector}", True, f"{len(self.containers)} found")]
        phases += [Phase(f"container {c.name}", True, c.line()) for c in self.containers]
        if self.missing:
            phases.append(Phase("missing", False, ", ".join(self.missing)))
        return phases

    def summary(self) -> str:
        if self.error:
            return f"docker {self.selector} on {self.engine}: {self.error}"
        lines = [f"docker {self.selector} on {self.engine}: {len(self.containers)} containers"]
        lines += [f"  {c.line()}" for c in self.containers]
        for c in self.containers:
            if c.health_output:
                lines.append(f"  {c.name} last healthcheck output: {c.health_output}")
        if self.missing:
            lines.append(f"  missing: {', '.join(self.missing)}")
        return "\n".join(lines)
