"""What the tls probe observed: the server's leaf certificate and what the handshake said about it."""

from __future__ import annotations

from dataclasses import dataclass, field

from opsverify.kinds.base import Phase
from opsverify.units import plural


@dataclass
class TlsFacts:
    """The server's leaf certificate and what the handshake said about it.

    `verified` is None when verification is switched off (`verify: false`).
    """

    host: str
    port: int
    server_name: str
    subject: str = ""
    issuer: str = ""
    sans: list[str] = field(default_factory=list)
    not_before: str = ""
    not_after: str = ""
    days_left: float | None = None
    self_signed: bool = False
    verified: bool | None = None
    verify_error: str | None = None
    hostname_matches: bool | None = None
    hostname_checked: bool = True  # the entry's check_hostname: a mismatch is a failed phase only then
    protocol: str = ""
    latency_ms: float = 0.0
    error: str | None = None

    def phases(self) -> list[Phase]:
        """Connect and handshake, the certificate read, the chain verified, the hostname matched."""
        where = f"connect and handshake with {self.host}:{self.port}"
        if self.error:
            return [Phase(where, False, self.error)]
        days = f" ({plural(round(self.days_left), 'day')} left)" if self.days_left is not None else ""
        chain = {
            True: "verified",
            False: f"NOT verified: {self.verify_error}",
            None: "not checked (verify: false)",
        }
        matches = (
            "matches" if self.hostname_matches else f"does not match {', '.join(self.sans) or 'any name'}"
        )
        return [
            Phase(where, True, self.protocol, self.latency_ms / 1000),
            Phase("read the certificate", True, f"{self.subject}, valid until {self.not_after}{days}"),
            Phase("verify the chain", self.verified is not False, chain[self.verified]),
            Phase(
                f"match the hostname {self.server_name}",
                bool(self.hostname_matches) or not self.hostname_checked,
                matches + ("" if self.hostname_checked else " (check_hostname: false)"),
            ),
        ]

    def summary(self) -> str:
        """Evidence lines for a failure message."""
        where = f"{self.host}:{self.port} (server name {self.server_name})"
        if self.error:
            return f"{where}: {self.error}"
        chain = {True: "verified", False: f"NOT verified ({self.verify_error})", None: "not checked"}
        return "\n".join(
            [
                f"{where}: {self.protocol} in {self.latency_ms:.0f} ms",
                f"subject: {self.subject}",
                f"issuer: {self.issuer}{' (self-signed)' if self.self_signed else ''}",
                f"names: {', '.join(self.sans) or '(no subjectAltName)'}",
                f"valid: {self.not_before} .. {self.not_after} ({plural(round(self.days_left, 1), 'day')} left)"
                if self.days_left is not None
                else f"valid until {self.not_after}",
                f"chain: {chain[self.verified]}",
            ]
        )
