"""Facts of a host check: what was measured on this machine, and the top processes when they were listed."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field

from opsverify.kinds.base import Phase
from opsverify.units import format_size, plural


@dataclass
class HostFacts:
    check: str  # disk | memory | load | cpu
    subject: str  # the disk path, or the check's name
    hostname: str = field(default_factory=socket.gethostname)
    used_pct: float = 0.0
    total: int = 0
    available: int = 0
    inodes_used_pct: float | None = None
    mountpoint: str = ""
    load: float = 0.0
    per_core: float = 0.0
    cores: int = 0
    top_processes: list[str] = field(default_factory=list)
    error: str | None = None  # what kept the measurement from being taken
    path_missing: bool = False  # disk: the path does not exist on this machine

    def phases(self) -> list[Phase]:
        """Each measurement taken on this machine, and the top processes when they were listed."""
        if self.error:
            return [Phase(f"measure {self.check} {self.subject} on {self.hostname}", False, self.error)]
        if self.check == "disk":
            free = (
                f"{self.used_pct:.1f}% used, {format_size(self.available)} free of {format_size(self.total)}"
            )
            phases = [Phase(f"disk usage of {self.subject} ({self.mountpoint})", True, free)]
            if self.inodes_used_pct is not None:
                phases.append(Phase(f"inodes of {self.subject}", True, f"{self.inodes_used_pct:.1f}% used"))
        elif self.check == "memory":
            available = f"{format_size(self.available)} available of {format_size(self.total)}"
            phases = [Phase("memory", True, f"{self.used_pct:.1f}% used, {available}")]
        elif self.check == "load":
            phases = [
                Phase(
                    "load",
                    True,
                    f"{self.load:.2f} on {plural(self.cores, 'core')} ({self.per_core:.2f} per core)",
                )
            ]
        else:
            phases = [Phase("cpu", True, f"{self.used_pct:.1f}% busy on {plural(self.cores, 'core')}")]
        if self.top_processes:
            listed = "; ".join(line.strip() for line in self.top_processes)
            phases.append(Phase("top processes", True, listed))
        return phases

    def evidence(self) -> str:
        """What was measured on which machine, and the top processes when they were looked at."""
        if self.check == "disk":
            inodes = f", inodes {self.inodes_used_pct:.1f}% used" if self.inodes_used_pct is not None else ""
            head = (
                f"{self.hostname}: {self.subject} on {self.mountpoint}: {self.used_pct:.1f}% used, "
                f"{format_size(self.available)} free of {format_size(self.total)}{inodes}"
            )
        elif self.check == "memory":
            head = (
                f"{self.hostname}: memory {self.used_pct:.1f}% used, {format_size(self.available)} "
                f"available of {format_size(self.total)}"
            )
        elif self.check == "load":
            head = (
                f"{self.hostname}: load {self.load:.2f} on {plural(self.cores, 'core')} "
                f"({self.per_core:.2f} per core)"
            )
        else:
            head = f"{self.hostname}: cpu {self.used_pct:.1f}% busy on {plural(self.cores, 'core')}"
        return "\n".join([head, *self.top_processes])
