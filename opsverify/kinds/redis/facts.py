"""What the redis probe observed: the PING reply and, from INFO, the version and memory use."""

from __future__ import annotations

from dataclasses import dataclass

from opsverify.kinds.base import Phase
from opsverify.units import format_size


@dataclass
class RedisFacts:
    """One redis entry's observations. `memory_limit_source` says what the percentage is relative to."""

    where: str
    pong: bool = False
    reply: str = ""
    latency_ms: float = 0.0
    version: str = ""
    role: str = ""
    used_memory: int | None = None
    maxmemory: int | None = None
    memory_limit: int | None = None
    memory_limit_source: str = ""
    memory_pct: float | None = None
    info_error: str | None = None
    error: str | None = None

    def phases(self) -> list[Phase]:
        """Connect and PING, INFO, memory use against its limit."""
        ping = f"connect to {self.where} and PING"
        if not self.pong:
            return [Phase(ping, False, self.error or f"PING -> {self.reply or 'no reply'}")]
        phases = [Phase(ping, True, self.reply, self.latency_ms / 1000)]
        if not self.version:
            if self.info_error:
                phases.append(Phase("INFO", False, self.info_error))
            return phases
        phases.append(Phase("INFO", True, f"Redis {self.version} ({self.role})"))
        if self.memory_pct is not None and self.used_memory is not None and self.memory_limit is not None:
            used = f"{format_size(self.used_memory)} of {format_size(self.memory_limit)} = {self.memory_pct:.1f}%"
            phases.append(Phase("memory", True, f"{used} ({self.memory_limit_source})"))
        elif self.info_error:
            phases.append(Phase("memory", False, self.info_error))
        return phases

    def summary(self) -> str:
        """Evidence lines for a failure message."""
        if self.error:
            return f"redis {self.where}: {self.error}"
        lines = [f"redis {self.where}: PING -> {self.reply} in {self.latency_ms:.0f} ms"]
        if self.version:
            lines[0] += f", Redis {self.version} ({self.role})"
        if self.memory_pct is not None and self.used_memory is not None and self.memory_limit is not None:
            lines.append(
                f"memory: {format_size(self.used_memory)} of {format_size(self.memory_limit)} "
                f"({self.memory_limit_source}) = {self.memory_pct:.1f}%"
            )
        return "\n".join(lines)
