"""Config model of `docker:` entries: the containers of a deployment (compose project/services, or names)."""

from __future__ import annotations

from pydantic import Field, model_validator

from opsverify.config.types import CheckEntry, Duration
from opsverify.units import bound, human_duration


class DockerCheck(CheckEntry):
    project: str | None = Field(
        default=None, description="compose project (label com.docker.compose.project)"
    )
    services: list[str] = Field(default_factory=list, description="compose services that must be there")
    containers: list[str] = Field(default_factory=list, description="container names, without compose")
    docker_host: str | None = Field(
        default=None, description="the engine (default DOCKER_HOST, else the socket)"
    )
    running: bool = Field(default=True, description="every container must be running")
    healthy: bool = Field(default=True, description="containers with a healthcheck must be `healthy`")
    require_healthcheck: bool = Field(default=False, description="a container without a healthcheck fails")
    max_unhealthy_for: Duration | None = Field(
        default=None, gt=0, description="tolerate `unhealthy`/`starting` this long (EmailOps: 5m)"
    )
    max_restarts: int | None = Field(default=None, ge=0, description="restarts in total (RestartCount)")
    max_restarts_since_last_run: int | None = Field(
        default=None, ge=0, description="restarts since the last run"
    )
    max_memory_pct: float | None = Field(
        default=None, gt=0, le=100, description="memory use vs the container's limit"
    )
    timeout: Duration = Field(default=10.0, gt=0)

    @model_validator(mode="after")
    def _what_to_select(self) -> DockerCheck:
        if self.project is None and not self.containers:
            raise ValueError(
                "say which containers: `project:` (compose project, with `services:`) or `containers:` (names)"
            )
        if self.project is not None and self.containers:
            raise ValueError("give `project:` (with `services:`) or `containers:`, not both")
        if self.services and self.project is None:
            raise ValueError("`services:` needs `project:` (the compose project they belong to)")
        return self

    def thresholds(self) -> list[str]:
        parts = [f"{len(self.services) or len(self.containers) or 'all'} containers"]
        parts += ["running"] if self.running else []
        if self.healthy:
            parts.append(
                "healthy"
                if self.max_unhealthy_for is None
                else f"unhealthy {bound('max', human_duration(self.max_unhealthy_for))}"
            )
        if self.max_restarts is not None:
            parts.append(f"restarts {bound('max', self.max_restarts)}")
        if self.max_restarts_since_last_run is not None:
            parts.append(f"restarts since last run {bound('max', self.max_restarts_since_last_run)}")
        if self.max_memory_pct is not None:
            parts.append(f"memory {bound('max', self.max_memory_pct, '%')} of limit")
        return parts
