"""Config model of `redis:` entries."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from pydantic import Field, field_validator, model_validator

from opsverify.config.secrets import SECRETS
from opsverify.config.types import CheckEntry, Duration, format_size

if TYPE_CHECKING:
    from opsverify.probes.redis import RedisFacts


class RedisCheck(CheckEntry):
    url: str = Field(description="redis:// or rediss:// URL")
    password: str | None = Field(default=None, description="for a URL without one; usually `password_file:`")
    timeout: Duration = 5.0
    max_memory_pct: float | None = Field(default=None, gt=0, le=100)

    @field_validator("url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("redis", "rediss", "unix"):
            raise ValueError(f"expected a redis://, rediss:// or unix:// URL, got {parts.scheme or value!r}")
        if parts.password:
            # A password written literally into the URL is a secret too (not only ${VAR} values).
            SECRETS.add_all([parts.password, unquote(parts.password)])
        return value

    @model_validator(mode="after")
    def _one_password(self) -> RedisCheck:
        if self.password is not None and "://" in self.url and urlsplit(self.url).password:
            raise ValueError("the URL has a password and `password` is set too; keep one of them")
        return self

    def thresholds(self) -> list[str]:
        return ["PONG"] + ([] if self.max_memory_pct is None else [f"memory ≤ {self.max_memory_pct:g}%"])

    def mismatches(self, facts: RedisFacts) -> list[str]:
        """What about the Redis server contradicts this entry (empty when the check passes)."""
        if facts.error:
            return [facts.error]
        problems = []
        if not facts.pong:
            problems.append(f"PING to {facts.where}: expected PONG, got {facts.reply!r}")
        if self.max_memory_pct is not None:
            if facts.memory_pct is None or facts.used_memory is None or facts.memory_limit is None:
                problems.append(f"memory: could not read INFO memory from {facts.where}: {facts.info_error}")
            elif facts.memory_pct > self.max_memory_pct:
                problems.append(
                    f"memory: {format_size(facts.used_memory)} used of {format_size(facts.memory_limit)} "
                    f"({facts.memory_limit_source}) = {facts.memory_pct:.1f}%, expected <= "
                    f"{self.max_memory_pct:g}%; find big keys (`redis-cli --bigkeys`), set TTLs, or raise "
                    "maxmemory"
                )
        return problems
