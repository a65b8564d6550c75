"""Config model of `tcp:` entries: a port accepts connections within a time, optionally with a banner."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from opsverify.config.types import CheckEntry, Duration


class TcpCheck(CheckEntry):
    host: str = Field(description="host name or address")
    port: int = Field(ge=1, le=65535)
    timeout: Duration = Field(default=5.0, gt=0, description="the connection must be accepted within this")
    banner: str | None = Field(
        default=None, description="regex the server's first line must match (SSH-2.0, 220 )"
    )
    banner_timeout: Duration = Field(default=3.0, gt=0, description="how long to wait for the banner")

    @field_validator("banner")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regex {value!r}: {exc}") from None
        return value

    def thresholds(self) -> list[str]:
        parts = [f"accepts within {self.timeout:g}s"]
        if self.banner is not None:
            parts.append(f"banner ~ /{self.banner}/")
        return parts
