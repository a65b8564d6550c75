"""Config model of `backups:` entries: the daily integrity check, and the `restore:` drill (tier dr).

The drill's block is `opsverify.kinds.restore.model.RestoreSpec` (the restore kind reads this section too).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from opsverify.backups.formats import declared_formats
from opsverify.config.types import ByteSize, CheckEntry, Duration, StrictModel
from opsverify.connect.via import ViaKey
from opsverify.kinds.restore.model import RestoreSpec
from opsverify.units import format_size, human_duration, plural

IN_PROGRESS_PATTERNS = ["*.tmp", "*.partial", "*.part", "*.inprogress", "*.incomplete"]


class Retention(StrictModel):
    """How many backups are kept and how old the oldest may be (pruning works, the disk does not fill)."""

    min_count: int | None = Field(default=None, ge=1)
    max_age: Duration | None = Field(default=None, gt=0)


class BackupCheck(CheckEntry):
    path: str = Field(description="directory holding the backups")
    via: ViaKey | None = Field(
        default=None, description="the machine holding them: local, ssh://…, docker://…"
    )
    verify_timeout: Duration = Field(
        default=600.0, gt=0, description="via: each verifying command run there (gzip -t, sha256sum)"
    )
    pattern: str = Field(default="*", description="glob of backup names in `path`")
    format: str = Field(default="auto", description="auto, or a format: pg-plain, pg-plain-gz, pg-custom, …")
    max_age: Duration | None = Field(default=None, gt=0, description="RPO gate: the newest backup's age")
    min_size: ByteSize | None = None
    max_shrink_pct: float = Field(
        default=50.0,
        ge=0,
        le=100,
        description="newest vs the median size of the previous `size_history` backups",
    )
    max_growth_pct: float | None = Field(
        default=None, gt=0, description="the same, for growth (off by default)"
    )
    size_history: int = Field(
        default=5, ge=1, le=100, description="how many previous backups in the folder the median is taken of"
    )
    retention: Retention | None = None
    checksum: Literal["auto", "required", "off"] = "auto"
    min_files: int | None = Field(default=None, ge=0, description="tar: members the archive must hold")
    min_items: int | None = Field(default=None, ge=0, description="json: items the document must hold")
    items_path: str | None = Field(default=None, description="json: dotted path of the counted list/object")
    allow_schema_only: bool = False
    expect_database: str | None = Field(
        default=None,
        description="mysql-plain: the database the dump must be of (header `Database:` or `USE`)",
    )
    ignore: list[str] = Field(default_factory=lambda: list(IN_PROGRESS_PATTERNS))
    settle: Duration = Field(default=2.0, ge=0, description="watch a just-modified newest file this long")
    client_bin: str | None = Field(default=None, description="directory with pg_restore and psql")
    restore: RestoreSpec | None = None

    @field_validator("format")
    @classmethod
    def _format_known(cls, value: str) -> str:
        """One of the registry's formats (built-in or a plugin's), reported as pydantic reports a Literal."""
        known = ["auto", *declared_formats()]
        if value not in known:
            expected = ", ".join(repr(name) for name in known[:-1]) + f" or {known[-1]!r}"
            raise PydanticCustomError("literal_error", "Input should be {expected}", {"expected": expected})
        return value

    @field_validator("checksum", mode="before")
    @classmethod
    def _yaml_off(cls, value: object) -> object:
        """YAML reads an unquoted `off` as false (and `on` as true)."""
        if value is False:
            return "off"
        return "auto" if value is True else value

    @field_validator("pattern")
    @classmethod
    def _pattern_is_a_name(cls, value: str) -> str:
        if "/" in value:
            raise ValueError(
                f"expected a file-name glob like backup_*.sql.gz (put the folder in `path`), got {value!r}"
            )
        return value

    @model_validator(mode="after")
    def _restore_is_local(self) -> BackupCheck:
        if self.via is not None and not self.via.is_local and self.restore is not None:
            raise ValueError(
                f"`restore` drills read the backup on this machine, but `via` is {self.via.describe()}: "
                "mount or copy the backups here for the drill, or drop `via` from this entry"
            )
        return self

    def thresholds(self) -> list[str]:
        """What the daily backup check enforces (freshness, size, retention, contents), for `validate`."""
        parts = [] if self.format == "auto" else [f"format {self.format}"]
        if self.max_age is not None:
            parts.append(f"newest ≤ {human_duration(self.max_age)} old")
        if self.min_size is not None:
            parts.append(f"size ≥ {format_size(self.min_size)}")
        if self.max_shrink_pct < 100:
            parts.append(f"shrink ≤ {self.max_shrink_pct:g}% (median of last {self.size_history})")
        if self.max_growth_pct is not None:
            parts.append(f"growth ≤ {self.max_growth_pct:g}% (median of last {self.size_history})")
        retention = self.retention
        if retention is not None and retention.min_count is not None:
            parts.append(f"≥ {plural(retention.min_count, 'backup')} kept")
        if retention is not None and retention.max_age is not None:
            parts.append(f"oldest ≤ {human_duration(retention.max_age)} old")
        if self.min_files is not None:
            parts.append(f"≥ {plural(self.min_files, 'file')} in the archive")
        if self.min_items is not None:
            where = f" at {self.items_path}" if self.items_path else ""
            parts.append(f"≥ {plural(self.min_items, 'item')}{where}")
        if self.checksum != "auto":
            parts.append(f"checksum {self.checksum}")
        return parts
