"""Host probe: disk, memory, load and CPU of this machine (psutil), and the top processes when over a limit."""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass, field

import psutil

from opsverify.config.host import CpuCheck, DiskCheck, HostEntry, LoadCheck, MemoryCheck
from opsverify.config.types import format_size, plural
from opsverify.probes.base import Phase, ProbeContext

TOP_PROCESSES = 5
CPU_SAMPLE_SECONDS = 0.3


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
    error: str | None = None

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


def probe(entry: HostEntry, ctx: ProbeContext) -> HostFacts:
    """Measure what `entry` limits; list the top processes when memory, load or CPU is over its limit."""
    if isinstance(entry, DiskCheck):
        return _disk(entry, ctx)
    if isinstance(entry, MemoryCheck):
        memory = psutil.virtual_memory()
        facts = HostFacts("memory", "memory", total=memory.total, available=memory.available)
        facts.used_pct = 100.0 * (memory.total - memory.available) / memory.total if memory.total else 0.0
        if entry.mismatches(facts):
            facts.top_processes = _top_by_memory()
        return facts
    cores = psutil.cpu_count() or 1
    if isinstance(entry, LoadCheck):
        averages = dict(zip(("1m", "5m", "15m"), psutil.getloadavg(), strict=True))
        load = averages[entry.window]
        facts = HostFacts("load", "load", load=load, cores=cores, per_core=load / cores)
    elif isinstance(entry, CpuCheck):
        facts = HostFacts("cpu", "cpu", cores=cores, used_pct=psutil.cpu_percent(interval=entry.interval))
    else:
        raise TypeError(f"unknown host check {type(entry).__name__}")
    if entry.mismatches(facts):
        facts.top_processes = _top_by_cpu()
    return facts


def _disk(entry: DiskCheck, ctx: ProbeContext) -> HostFacts:
    path = ctx.path(entry.path)
    facts = HostFacts("disk", entry.path)
    try:
        usage = psutil.disk_usage(str(path))
        stats = os.statvfs(path)
    except FileNotFoundError:
        facts.error = (
            f"disk {entry.path}: no such path on {facts.hostname}; fix `host.disk[].path` "
            "(the host checks measure the machine the suite runs on)"
        )
        return facts
    except OSError as exc:
        facts.error = f"disk {entry.path}: cannot measure it ({exc.strerror or exc})"
        return facts
    facts.total, facts.available, facts.used_pct = usage.total, usage.free, usage.percent
    if stats.f_files:
        facts.inodes_used_pct = 100.0 * (stats.f_files - stats.f_ffree) / stats.f_files
    facts.mountpoint = _mountpoint(path)
    return facts


def _mountpoint(path: os.PathLike[str]) -> str:
    current = os.path.realpath(path)
    while not os.path.ismount(current):
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    return current


def _top_by_memory() -> list[str]:
    rows = []
    for process in psutil.process_iter(["pid", "name", "memory_info"]):
        info = process.info
        if info.get("memory_info") is not None:
            rows.append((info["memory_info"].rss, info["pid"], info.get("name") or "?"))
    rows.sort(reverse=True)
    return [f"  pid {pid} {name}: {format_size(rss)} resident" for rss, pid, name in rows[:TOP_PROCESSES]]


def _top_by_cpu() -> list[str]:
    processes = list(psutil.process_iter(["pid", "name"]))
    for process in processes:
        try:
            process.cpu_percent(None)
        except psutil.Error:
            continue
    time.sleep(CPU_SAMPLE_SECONDS)
    rows = []
    for process in processes:
        try:
            rows.append((process.cpu_percent(None), process.info["pid"], process.info.get("name") or "?"))
        except psutil.Error:
            continue
    rows.sort(reverse=True)
    return [f"  pid {pid} {name}: {cpu:.0f}% CPU" for cpu, pid, name in rows[:TOP_PROCESSES]]
