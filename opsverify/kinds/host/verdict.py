"""Verdict of a host check (`host:disk:/`, `host:memory`, `host:load`, `host:cpu`): dispatches on the entry's
type. The evidence is what was measured on which machine, and the top processes when they were listed."""

from __future__ import annotations

from opsverify.kinds.host.facts import HostFacts
from opsverify.kinds.host.model import CpuCheck, DiskCheck, HostEntry, LoadCheck, MemoryCheck
from opsverify.problem import Judgement, Problem
from opsverify.units import format_size, plural

MISSING_PATH_FIX = "fix `host.disk[].path` (the host checks measure the machine of `via:`, by default the one the suite runs on)"
BUSIEST = "see the busiest processes below"


def judge(entry: HostEntry, facts: HostFacts, rule: str | None = None) -> Judgement:
    """Problems of `facts` against `entry`; host checks have no rules, so `rule` is ignored."""
    if facts.error:  # nothing was measured: the problem says why, and there is no evidence to show
        subject = f"disk {facts.subject}" if facts.check == "disk" else facts.check
        return Judgement([Problem(subject, facts.error, fix=MISSING_PATH_FIX if facts.path_missing else "")])
    if isinstance(entry, DiskCheck):
        problems = _disk(entry, facts)
    elif isinstance(entry, MemoryCheck):
        problems = _memory(entry, facts)
    elif isinstance(entry, LoadCheck):
        problems = _load(entry, facts)
    elif isinstance(entry, CpuCheck):
        problems = _cpu(entry, facts)
    else:
        raise TypeError(f"unknown host check {type(entry).__name__}")
    return Judgement(problems, facts.evidence())


def _disk(entry: DiskCheck, facts: HostFacts) -> list[Problem]:
    problems = []
    used, total, free = facts.used_pct, facts.total, facts.available
    where = f"disk {facts.subject}"
    if entry.max_used_pct is not None and used > entry.max_used_pct:
        problems.append(
            Problem(
                where,
                f"{used:.1f}% used ({format_size(total - free)} of {format_size(total)}, {format_size(free)} free)",
                expected=f"at most {entry.max_used_pct:g}% used",
                fix="free space (old logs, backups, images) or grow the volume",
            )
        )
    if entry.min_free is not None and free < entry.min_free:
        problems.append(
            Problem(
                where,
                f"{format_size(free)} free",
                expected=f"at least {format_size(entry.min_free)} free",
                fix="free space or grow the volume",
            )
        )
    inodes, inodes_limit = facts.inodes_used_pct, entry.max_inodes_used_pct
    if inodes is not None and inodes_limit is not None and inodes > inodes_limit:
        problems.append(
            Problem(
                where,
                f"{inodes:.1f}% of inodes used",
                expected=f"at most {inodes_limit:g}% of inodes used",
                fix="delete many small files (sessions, caches, mail queues)",
            )
        )
    return problems


def _memory(entry: MemoryCheck, facts: HostFacts) -> list[Problem]:
    if facts.used_pct <= entry.max_used_pct:
        return []
    used, available = format_size(facts.total - facts.available), format_size(facts.available)
    return [
        Problem(
            "memory",
            f"{facts.used_pct:.1f}% used ({used} of {format_size(facts.total)}, {available} available)",
            expected=f"at most {entry.max_used_pct:g}% used",
            fix="see the largest processes below (a leak? add memory limits)",
        )
    ]


def _load(entry: LoadCheck, facts: HostFacts) -> list[Problem]:
    if facts.per_core <= entry.max_per_core:
        return []
    found = (
        f"{entry.window} load average {facts.load:.2f} = {facts.per_core:.2f} per core on "
        f"{plural(facts.cores, 'core')}"
    )
    return [Problem("load", found, expected=f"at most {entry.max_per_core:g} per core", fix=BUSIEST)]


def _cpu(entry: CpuCheck, facts: HostFacts) -> list[Problem]:
    if facts.used_pct <= entry.max_used_pct:
        return []
    found = f"{facts.used_pct:.1f}% busy over {entry.interval:g}s on {plural(facts.cores, 'core')}"
    return [Problem("cpu", found, expected=f"at most {entry.max_used_pct:g}% busy", fix=BUSIEST)]
