"""What the tcp probe observed: whether and how fast the port accepted, and the banner it sent."""

from __future__ import annotations

from dataclasses import dataclass

from opsverify.kinds.base import Phase


@dataclass
class TcpFacts:
    where: str
    connected: bool = False
    connect_ms: float = 0.0
    banner: str | None = None  # the first line the server sent (None: none was awaited or none came)
    banner_error: str | None = None
    error: str | None = None

    def phases(self) -> list[Phase]:
        if not self.connected:
            return [Phase(f"connect to {self.where}", False, self.error or "not connected")]
        phases = [Phase(f"connect to {self.where}", True, "accepted", self.connect_ms / 1000)]
        if self.banner is not None or self.banner_error:
            phases.append(Phase("banner", self.banner is not None, self.banner or self.banner_error or ""))
        return phases

    def summary(self) -> str:
        if self.error:
            return f"tcp {self.where}: {self.error}"
        line = f"tcp {self.where}: accepted in {self.connect_ms:.0f} ms"
        if self.banner is not None:
            line += f", banner {self.banner!r}"
        elif self.banner_error:
            line += f", {self.banner_error}"
        return line
