"""Config model of `redis:` entries."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from pydantic import Field, field_validator, model_validator

from opsverify.config.types import CheckEntry, Duration
from opsverify.redaction import SECRETS
from opsverify.units import bound


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
        return ["PONG"] + (
            [] if self.max_memory_pct is None else [f"memory {bound('max', self.max_memory_pct, '%')}"]
        )
