"""Config model of `tls:` entries."""

from __future__ import annotations

from pydantic import Field

from opsverify.config.types import CheckEntry, Duration


class TlsCheck(CheckEntry):
    host: str
    port: int = Field(default=443, ge=1, le=65535)
    server_name: str | None = Field(default=None, description="SNI / hostname to verify; defaults to host")
    min_days_left: int = Field(default=30, ge=0)
    verify: bool | str = Field(default=True, description="verify the chain; false, or a CA bundle path")
    timeout: Duration = 10.0
