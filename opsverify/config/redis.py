"""Config model of `redis:` entries."""

from __future__ import annotations

from pydantic import Field

from opsverify.config.types import CheckEntry, Duration


class RedisCheck(CheckEntry):
    url: str = Field(description="redis:// or rediss:// URL")
    timeout: Duration = 5.0
    max_memory_pct: float | None = Field(default=None, gt=0, le=100)
