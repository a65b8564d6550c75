"""Config model of `tls:` entries and what they expect of a server's certificate."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from opsverify.config.types import CheckEntry, Duration, TlsVerify, plural

if TYPE_CHECKING:
    from opsverify.probes.tls import TlsFacts


class TlsCheck(CheckEntry):
    host: str
    port: int = Field(default=443, ge=1, le=65535)
    server_name: str | None = Field(default=None, description="SNI / hostname to verify; defaults to host")
    min_days_left: int = Field(default=30, ge=0)
    verify: TlsVerify = Field(default=True, description="verify the chain; false, or a CA bundle path")
    check_hostname: bool = Field(default=True, description="the certificate must name server_name")
    timeout: Duration = 10.0

    def thresholds(self) -> list[str]:
        parts = [f"≥ {plural(self.min_days_left, 'day')} left"]
        if not self.check_hostname:
            parts.append("hostname not checked")
        if self.verify is False:
            parts.append("chain not verified")
        elif isinstance(self.verify, str):
            parts.append(f"chain verified against {self.verify}")
        return parts

    def mismatches(self, facts: TlsFacts) -> list[str]:
        """What about the certificate contradicts this entry (empty when the check passes)."""
        if facts.error:
            return [facts.error]
        problems = []
        if facts.days_left is not None and facts.days_left < self.min_days_left:
            if facts.days_left < 0:
                when = f"expired {-facts.days_left:.1f} days ago"
            else:
                when = f"expires in {facts.days_left:.1f} days"
            problems.append(
                f"certificate {when} (not after {facts.not_after}), expected at least "
                f"{plural(self.min_days_left, 'day')} left; renew it (e.g. `certbot renew`) and reload the server"
            )
        if self.check_hostname and facts.hostname_matches is False:
            covers = ", ".join(facts.sans) if facts.sans else f"no subjectAltName (subject {facts.subject})"
            problems.append(
                f"hostname: the certificate is not valid for {facts.server_name!r}; it covers {covers} "
                "(install a certificate for this name, or set `server_name:` to the name clients use)"
            )
        if self.verify is not False and facts.verified is False:
            hint = " (the certificate is self-signed)" if facts.self_signed else ""
            where = f"the CA bundle {self.verify}" if isinstance(self.verify, str) else "the system CA store"
            problems.append(
                f"chain: does not verify against {where}: {facts.verify_error}{hint}; serve the full chain "
                "(leaf + intermediates), or set `verify:` to the CA bundle path, or `verify: false`"
            )
        return problems
