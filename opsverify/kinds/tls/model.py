"""Config model of `tls:` entries and what they expect of a server's certificate."""

from __future__ import annotations

from pydantic import Field

from opsverify.config.types import CheckEntry, Duration, TlsVerify
from opsverify.units import bound, plural


class TlsCheck(CheckEntry):
    host: str
    port: int = Field(default=443, ge=1, le=65535)
    server_name: str | None = Field(default=None, description="SNI / hostname to verify; defaults to host")
    min_days_left: int = Field(default=30, ge=0)
    verify: TlsVerify = Field(default=True, description="verify the chain; false, or a CA bundle path")
    check_hostname: bool = Field(default=True, description="the certificate must name server_name")
    timeout: Duration = 10.0

    def thresholds(self) -> list[str]:
        parts = [f"{bound('min', plural(self.min_days_left, 'day'))} left"]
        if not self.check_hostname:
            parts.append("hostname not checked")
        if self.verify is False:
            parts.append("chain not verified")
        elif isinstance(self.verify, str):
            parts.append(f"chain verified against {self.verify}")
        return parts
