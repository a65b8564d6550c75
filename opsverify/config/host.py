"""Config model of the `host:` section: disk, memory, load and CPU of the machine the suite runs on.

The section is not `{name: entry}`: `HostSection.entries()` names its checks `disk:/`, `memory`, `load`, `cpu`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator, model_validator

from opsverify.config.types import ByteSize, CheckEntry, Duration, StrictModel, format_size, plural

if TYPE_CHECKING:
    from opsverify.probes.host import HostFacts


class HostEntry(CheckEntry):
    """Base of the host checks; the probe dispatches on the subclass."""

    def mismatches(self, facts: HostFacts) -> list[str]:
        raise NotImplementedError


class DiskCheck(HostEntry):
    path: str = Field(description="a path on the filesystem to check (its mount is measured)")
    max_used_pct: float | None = Field(default=None, gt=0, le=100)
    min_free: ByteSize | None = Field(default=None, description="free space required, like 5GB")
    max_inodes_used_pct: float | None = Field(default=None, gt=0, le=100)

    @field_validator("path")
    @classmethod
    def _path_given(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("expected a path like / or /var/lib/postgresql")
        return value

    @model_validator(mode="after")
    def _a_limit(self) -> DiskCheck:
        if self.max_used_pct is None and self.min_free is None and self.max_inodes_used_pct is None:
            raise ValueError(
                f"disk {self.path!r}: give a limit (`max_used_pct: 85`, `min_free: 5GB` or "
                "`max_inodes_used_pct: 90`)"
            )
        return self

    def thresholds(self) -> list[str]:
        parts = [] if self.max_used_pct is None else [f"used ≤ {self.max_used_pct:g}%"]
        if self.min_free is not None:
            parts.append(f"free ≥ {format_size(self.min_free)}")
        if self.max_inodes_used_pct is not None:
            parts.append(f"inodes ≤ {self.max_inodes_used_pct:g}%")
        return parts

    def mismatches(self, facts: HostFacts) -> list[str]:
        if facts.error:
            return [facts.error]
        problems = []
        used, total, free = facts.used_pct, facts.total, facts.available
        where = f"disk {facts.subject}"
        if self.max_used_pct is not None and used > self.max_used_pct:
            problems.append(
                f"{where}: {used:.1f}% used ({format_size(total - free)} of {format_size(total)}, "
                f"{format_size(free)} free), expected at most {self.max_used_pct:g}%; free space "
                "(old logs, backups, images) or grow the volume"
            )
        if self.min_free is not None and free < self.min_free:
            problems.append(
                f"{where}: {format_size(free)} free, expected at least {format_size(self.min_free)}; "
                "free space or grow the volume"
            )
        inodes, inodes_limit = facts.inodes_used_pct, self.max_inodes_used_pct
        if inodes is not None and inodes_limit is not None and inodes > inodes_limit:
            problems.append(
                f"{where}: {inodes:.1f}% of inodes used, expected at most {inodes_limit:g}%; "
                "delete many small files (sessions, caches, mail queues)"
            )
        return problems


class MemoryCheck(HostEntry):
    max_used_pct: float = Field(gt=0, le=100, description="(total - available) / total")

    def thresholds(self) -> list[str]:
        return [f"used ≤ {self.max_used_pct:g}%"]

    def mismatches(self, facts: HostFacts) -> list[str]:
        if facts.error:
            return [facts.error]
        if facts.used_pct <= self.max_used_pct:
            return []
        return [
            f"memory: {facts.used_pct:.1f}% used ({format_size(facts.total - facts.available)} of "
            f"{format_size(facts.total)}, {format_size(facts.available)} available), expected at most "
            f"{self.max_used_pct:g}%; see the largest processes below (a leak? add memory limits)"
        ]


class LoadCheck(HostEntry):
    max_per_core: float = Field(gt=0, description="load average divided by the number of CPUs")
    window: Literal["1m", "5m", "15m"] = "5m"

    def thresholds(self) -> list[str]:
        return [f"{self.window} load ≤ {self.max_per_core:g} per core"]

    def mismatches(self, facts: HostFacts) -> list[str]:
        if facts.error:
            return [facts.error]
        if facts.per_core <= self.max_per_core:
            return []
        return [
            f"load: {self.window} load average {facts.load:.2f} = {facts.per_core:.2f} per core on "
            f"{plural(facts.cores, 'core')}, expected at most {self.max_per_core:g} per core; see the busiest "
            "processes below"
        ]


class CpuCheck(HostEntry):
    max_used_pct: float = Field(gt=0, le=100)
    interval: Duration = Field(default=1.0, gt=0, le=60, description="how long CPU use is measured")

    def thresholds(self) -> list[str]:
        return [f"busy ≤ {self.max_used_pct:g}% over {self.interval:g}s"]

    def mismatches(self, facts: HostFacts) -> list[str]:
        if facts.error:
            return [facts.error]
        if facts.used_pct <= self.max_used_pct:
            return []
        return [
            f"cpu: {facts.used_pct:.1f}% busy over {self.interval:g}s on {plural(facts.cores, 'core')}, expected at "
            f"most {self.max_used_pct:g}%; see the busiest processes below"
        ]


class HostSection(StrictModel):
    """`host:` — each key is optional; every item becomes its own test (`host:disk:/`, `host:memory` …)."""

    disk: list[DiskCheck] = Field(default_factory=list)
    memory: MemoryCheck | None = None
    load: LoadCheck | None = None
    cpu: CpuCheck | None = None

    @field_validator("disk")
    @classmethod
    def _distinct_paths(cls, value: list[DiskCheck]) -> list[DiskCheck]:
        paths = [d.path for d in value]
        doubled = sorted({p for p in paths if paths.count(p) > 1})
        if doubled:
            raise ValueError(f"disk path {doubled[0]!r} is listed twice; merge its limits into one item")
        return value

    def entries(self) -> list[tuple[str, HostEntry]]:
        items: list[tuple[str, HostEntry]] = [(f"disk:{d.path}", d) for d in self.disk]
        items += [(name, entry) for name, entry in self._singles() if entry is not None]
        return items

    def _singles(self) -> list[tuple[str, HostEntry | None]]:
        return [("memory", self.memory), ("load", self.load), ("cpu", self.cpu)]
