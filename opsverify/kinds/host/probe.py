"""Host probe: disk, memory, load and CPU of this machine (psutil), and the top processes when over a limit."""

from __future__ import annotations

import os
import time

import psutil

from opsverify.connect import ConnectError, Connection, connect
from opsverify.kinds.base import ProbeContext
from opsverify.kinds.host.facts import HostFacts
from opsverify.kinds.host.model import CpuCheck, DiskCheck, HostEntry, LoadCheck, MemoryCheck
from opsverify.kinds.host.verdict import judge
from opsverify.units import format_size

TOP_PROCESSES = 5
CPU_SAMPLE_SECONDS = 0.3


def probe(entry: HostEntry, ctx: ProbeContext) -> HostFacts:
    """Measure what `entry` limits; list the top processes when memory, load or CPU is over its limit."""
    if entry.via is not None and not entry.via.is_local:
        return _remote(entry, ctx)
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


# Another machine (`via:`): the same measurements from df and /proc, read with commands over the connection.


def _remote(entry: HostEntry, ctx: ProbeContext) -> HostFacts:
    assert entry.via is not None
    check = {DiskCheck: "disk", MemoryCheck: "memory", LoadCheck: "load", CpuCheck: "cpu"}[type(entry)]
    facts = HostFacts(
        check, entry.path if isinstance(entry, DiskCheck) else check, hostname=entry.via.describe()
    )
    try:
        with connect(entry.via, ctx.base_dir) as machine:
            _measure_remote(entry, facts, machine)
            if check != "disk" and not facts.error and judge(entry, facts).problems:
                facts.top_processes = _remote_top(machine, "rss" if check == "memory" else "pcpu")
    except ConnectError as exc:
        facts.error = str(exc)
    except (ValueError, IndexError, KeyError) as exc:
        facts.error = (
            f"unexpected output on {facts.hostname} ({exc}): is it a Linux machine with df and /proc?"
        )
    return facts


def _output(machine: Connection, command: list[str], timeout: float = 15) -> str:
    result = machine.run(command, timeout)
    if result.timed_out:
        raise ConnectError(f"`{' '.join(command)}` did not finish within {timeout:g}s")
    if result.exit_code != 0:
        raise ConnectError(f"`{' '.join(command)}` failed: {result.text('stderr').strip()[:200]}")
    return result.text()


def _measure_remote(entry: HostEntry, facts: HostFacts, machine: Connection) -> None:
    if isinstance(entry, DiskCheck):
        result = machine.run(["df", "-P", "-k", "--", entry.path], 15)
        if result.exit_code != 0:
            if "No such file" in result.text("stderr"):
                facts.error, facts.path_missing = f"no such path on {facts.hostname}", True
            else:
                facts.error = f"cannot measure it: {result.text('stderr').strip()[:200] or 'df failed'}"
            return
        fields = result.text().splitlines()[-1].split()
        total_kb, used_kb, free_kb = int(fields[1]), int(fields[2]), int(fields[3])
        facts.total, facts.available = total_kb * 1024, free_kb * 1024
        facts.used_pct = 100.0 * used_kb / (used_kb + free_kb) if used_kb + free_kb else 0.0
        facts.mountpoint = fields[-1]
        inodes = machine.run(["df", "-P", "-i", "--", entry.path], 15)
        if inodes.exit_code == 0:
            parts = inodes.text().splitlines()[-1].split()
            if parts[1].isdigit() and int(parts[1]):
                facts.inodes_used_pct = 100.0 * int(parts[2]) / int(parts[1])
    elif isinstance(entry, MemoryCheck):
        info = {
            line.split(":")[0]: int(line.split()[1]) * 1024
            for line in _output(machine, ["cat", "/proc/meminfo"]).splitlines()
            if line.count(":") == 1 and len(line.split()) >= 2 and line.split()[1].isdigit()
        }
        facts.total, facts.available = info["MemTotal"], info.get("MemAvailable", info.get("MemFree", 0))
        facts.used_pct = 100.0 * (facts.total - facts.available) / facts.total if facts.total else 0.0
    elif isinstance(entry, LoadCheck):
        text = _output(machine, ["sh", "-c", "cat /proc/loadavg; grep -c ^processor /proc/cpuinfo"])
        lines = text.split()
        averages = dict(zip(("1m", "5m", "15m"), (float(x) for x in lines[:3]), strict=True))
        facts.cores = max(1, int(text.splitlines()[-1]))
        facts.load = averages[entry.window]
        facts.per_core = facts.load / facts.cores
    elif isinstance(entry, CpuCheck):
        script = f"head -1 /proc/stat; sleep {entry.interval:g}; head -1 /proc/stat; grep -c ^processor /proc/cpuinfo"
        lines = _output(machine, ["sh", "-c", script], timeout=entry.interval + 15).splitlines()
        before, after = ([int(x) for x in line.split()[1:]] for line in lines[:2])
        idle = (after[3] + after[4]) - (before[3] + before[4])  # idle + iowait
        total = sum(after) - sum(before)
        facts.used_pct = 100.0 * (total - idle) / total if total > 0 else 0.0
        facts.cores = int(lines[2])


def _remote_top(machine: Connection, key: str) -> list[str]:
    result = machine.run(["ps", "-eo", f"pid=,comm=,{key}=", f"--sort=-{key}"], 15)
    rows = []
    for line in result.text().splitlines()[:TOP_PROCESSES]:
        parts = line.split()
        if len(parts) >= 3:
            pid, name, value = parts[0], " ".join(parts[1:-1]), parts[-1]
            shown = f"{format_size(int(value) * 1024)} resident" if key == "rss" else f"{value}% CPU"
            rows.append(f"  pid {pid} {name}: {shown}")
    return rows
