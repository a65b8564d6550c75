"""Config model of a backup entry's `restore:` block: the DR drill (tier dr) and what the restored data must hold.

The restore kind reads the `backups:` section: its entries are `opsverify.kinds.backups.model.BackupCheck`,
whose `restore:` key is the `RestoreSpec` below.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from opsverify.config.types import Duration, StrictModel, Tier
from opsverify.drills.expect import Freshness, RestoreExpect
from opsverify.units import bound, human_duration, plural

__all__ = ["Freshness", "RestoreExpect", "RestoreSpec", "SandboxKind"]

SandboxKind = Literal["auto", "url", "docker", "local"]
DOCKER_SCHEMES = ("unix", "tcp", "ssh", "http", "https", "npipe")


class RestoreSpec(StrictModel):
    """The DR drill: restore the newest backup into a throwaway database and verify it."""

    tiers: list[Tier] | None = None
    sandbox: SandboxKind = "auto"
    sandbox_url: str | None = Field(default=None, description="admin URL of a scratch PostgreSQL server")
    image: str | None = Field(
        default=None,
        description="docker image; default postgres:<dump's major version>, mariadb:/mysql:<dump's server version>",
    )
    docker_host: str | None = Field(
        default=None,
        description="the Docker engine of the docker sandbox (unix://, tcp://, ssh://); default DOCKER_HOST",
    )
    server_bin: str | None = Field(
        default=None, description="directory with initdb and pg_ctl (local sandbox)"
    )
    jobs: int | None = Field(default=None, ge=1, le=64, description="pg_restore --jobs; default: CPU cores")
    no_owner: bool = Field(default=False, description="pg_restore --no-owner --no-privileges")
    rto: Duration | None = Field(default=None, gt=0)
    rto_warn_pct: float | None = Field(
        default=80.0, gt=0, le=100, description="warn (not fail) when the RTO passes this share of `rto`"
    )
    rto_trend_runs: int = Field(
        default=4, ge=0, le=50, description="warn when the RTO rose on each of this many last runs (0: off)"
    )
    timeout: Duration | None = Field(
        default=None, gt=0, description="restore step limit; default 2 x rto or 12h"
    )
    statement_timeout: Duration = Field(default=300.0, gt=0)
    tmp_dir: str | None = Field(
        default=None,
        description="where a restic/borg drill restores into (a disk with room for it); default TMPDIR",
    )
    expect: RestoreExpect = Field(default_factory=RestoreExpect)

    @field_validator("docker_host")
    @classmethod
    def _engine_url(cls, value: str | None) -> str | None:
        if value is not None and ("://" not in value or value.split("://", 1)[0] not in DOCKER_SCHEMES):
            raise ValueError(
                f"{value!r} is not a Docker engine URL; write unix:///var/run/docker.sock, tcp://host:2375 or "
                "ssh://user@host"
            )
        return value

    @model_validator(mode="after")
    def _url_given(self) -> RestoreSpec:
        if self.sandbox == "url" and not self.sandbox_url:
            raise ValueError(
                "sandbox: url needs `sandbox_url:` (an admin URL of a scratch server, e.g. "
                "postgresql://postgres@scratch-db:5432/postgres)"
            )
        if self.docker_host is not None and self.sandbox not in ("docker", "auto"):
            raise ValueError(
                f"`docker_host` is for the docker sandbox; sandbox is {self.sandbox}: remove docker_host, or "
                "set sandbox: docker"
            )
        return self

    def restore_timeout(self) -> float:
        return self.timeout or (2 * self.rto if self.rto else 12 * 3600.0)

    def thresholds(self) -> list[str]:
        """What the drill enforces (RTO, RPO, what the restored data must hold), for `validate`."""
        expect, parts = self.expect, []
        if self.rto is not None:
            parts.append(f"RTO {bound('max', human_duration(self.rto))}")
        if expect.freshness is not None:
            parts.append(f"RPO {bound('max', human_duration(expect.freshness.max_lag))}")
        present = [t for t in expect.tables if t not in expect.min_rows]
        if present:
            parts.append(f"tables [{', '.join(present)}]")
        parts += [
            f"{bound('min', plural(count, 'row'))} in {table}" for table, count in expect.min_rows.items()
        ]
        parts += [f"query {name} {query.describe()}" for name, query in expect.queries.items()]
        tolerance = f"within {expect.count_tolerance_pct:g}%"
        if expect.compare_to:
            parts.append(f"row counts {tolerance} of postgres:{expect.compare_to}")
        if expect.compare_dir:
            parts.append(f"file count {tolerance} of {expect.compare_dir}")
        if expect.files:
            parts.append(f"files [{', '.join(expect.files)}]")
        if expect.min_count is not None:
            parts.append(f"{bound('min', plural(expect.min_count, 'file'))} restored")
        if expect.sha256:
            parts.append(f"sha256 of {', '.join(expect.sha256)}")
        return parts
