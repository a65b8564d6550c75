"""Config model of the `host:` section: disk, memory, load and CPU of the machine the suite runs on.

The section is not `{name: entry}`: `HostSection.entries()` names its checks `disk:/`, `memory`, `load`, `cpu`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from opsverify.config.types import ByteSize, CheckEntry, Duration, StrictModel
from opsverify.connect.via import ViaKey
from opsverify.units import bound, format_size


class HostEntry(CheckEntry):
    """Base of the host checks; the probe and the verdict dispatch on the subclass."""

    via: ViaKey | None = Field(
        default=None, description="the machine measured (default: the section's `via`)"
    )


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
        parts = [] if self.max_used_pct is None else [f"used {bound('max', self.max_used_pct, '%')}"]
        if self.min_free is not None:
            parts.append(f"free {bound('min', format_size(self.min_free))}")
        if self.max_inodes_used_pct is not None:
            parts.append(f"inodes {bound('max', self.max_inodes_used_pct, '%')}")
        return parts


class MemoryCheck(HostEntry):
    max_used_pct: float = Field(gt=0, le=100, description="(total - available) / total")

    def thresholds(self) -> list[str]:
        return [f"used {bound('max', self.max_used_pct, '%')}"]


class LoadCheck(HostEntry):
    max_per_core: float = Field(gt=0, description="load average divided by the number of CPUs")
    window: Literal["1m", "5m", "15m"] = "5m"

    def thresholds(self) -> list[str]:
        return [f"{self.window} load {bound('max', self.max_per_core)} per core"]


class CpuCheck(HostEntry):
    max_used_pct: float = Field(gt=0, le=100)
    interval: Duration = Field(default=1.0, gt=0, le=60, description="how long CPU use is measured")

    def thresholds(self) -> list[str]:
        return [f"busy {bound('max', self.max_used_pct, '%')} over {self.interval:g}s"]


class HostSection(StrictModel):
    """`host:` — each key is optional; every item becomes its own test (`host:disk:/`, `host:memory` …)."""

    via: ViaKey | None = Field(default=None, description="the machine measured: local, ssh://…, docker://…")
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
        if self.via is not None:
            items = [
                (name, entry if entry.via is not None else entry.model_copy(update={"via": self.via}))
                for name, entry in items
            ]
        return items

    def _singles(self) -> list[tuple[str, HostEntry | None]]:
        return [("memory", self.memory), ("load", self.load), ("cpu", self.cpu)]
