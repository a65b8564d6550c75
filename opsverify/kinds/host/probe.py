"""Host probe: disk, memory, load and CPU of this machine (psutil), and the top processes when over a limit."""

from __future__ import annotations

import os
import time

import psutil

from opsverify.kinds.base import ProbeContext
from opsverify.kinds.host.facts import HostFacts
from opsverify.kinds.host.model import CpuCheck, DiskCheck, HostEntry, LoadCheck, MemoryCheck
from opsverify.kinds.host.verdict import judge
from opsverify.units import format_size

TOP_PROCESSES = 5
CPU_SAMPLE_SECONDS = 0.3


def probe(entry: HostEntry, ctx: ProbeContext) -> HostFacts:
    """Measure what `entry` limits; list the top processes when memory, load or CPU is over its limit."""
    if isinstance(entry, DiskCheck):
        return _disk(entry, ctx)
    if isinstance(entry, MemoryCheck):
        memory = psutil.virtual_memory()
        facts = HostFacts("memory", "memory", total=memory.total, available=memory.available)
        facts.used_pct = 100.0 * (memory.total - memory.available) / memory.total if memory.total else 0.0
        if judge(entry, facts).problems:
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
    if judge(entry, facts).problems:
        facts.top_processes = _top_by_cpu()
    return facts


def _disk(entry: DiskCheck, ctx: ProbeContext) -> HostFacts:
    path = ctx.path(entry.path)
    facts = HostFacts("disk", entry.path)
    try:
        usage = psutil.disk_usage(str(path))
        stats = os.statvfs(path)
    except FileNotFoundError:
        facts.error, facts.path_missing = f"no such path on {facts.hostname}", True
        return facts
    except OSError as exc:
        facts.error = f"cannot measure it ({exc.strerror or exc})"
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
