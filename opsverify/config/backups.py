"""Config model of `backups:` entries: the daily integrity check and the `restore:` drill (tier dr)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator, model_validator

from opsverify.config.postgres import QueryExpectation
from opsverify.config.types import (
    ByteSize,
    CheckEntry,
    Duration,
    StrictModel,
    Tier,
    format_size,
    human_duration,
    plural,
)

if TYPE_CHECKING:
    from opsverify.backups.check import BackupFacts
    from opsverify.drills.drill import DrillFacts

BackupFormat = Literal[
    "auto", "pg-plain", "pg-plain-gz", "pg-custom", "pg-directory", "sqlite", "tar", "json", "gzip"
]
SandboxKind = Literal["auto", "url", "docker", "local"]

# A table name as written in SQL: `bookings`, `public.bookings`, `"Mixed Case"` quoted parts allowed.
_TABLE = re.compile(r'^(?:[A-Za-z_][A-Za-z0-9_$]*|"[^"]+")(?:\.(?:[A-Za-z_][A-Za-z0-9_$]*|"[^"]+"))?$')
IN_PROGRESS_PATTERNS = ["*.tmp", "*.partial", "*.part", "*.inprogress", "*.incomplete"]


def _table_names(names: list[str]) -> list[str]:
    for name in names:
        if not _TABLE.match(name):
            raise ValueError(f"expected a table name like bookings or public.bookings, got {name!r}")
    return names


class Retention(StrictModel):
    """How many backups are kept and how old the oldest may be (pruning works, the disk does not fill)."""

    min_count: int | None = Field(default=None, ge=1)
    max_age: Duration | None = Field(default=None, gt=0)


class Freshness(StrictModel):
    """The newest row of the restored data: `sql` returns one timestamp, at most `max_lag` old (measured RPO)."""

    sql: str
    max_lag: Duration = Field(gt=0)


class RestoreExpect(StrictModel):
    """What the restored database must contain."""

    tables: list[str] = Field(default_factory=list)
    min_rows: dict[str, int] = Field(default_factory=dict)
    queries: dict[str, QueryExpectation] = Field(default_factory=dict)
    freshness: Freshness | None = None
    compare_to: str | None = Field(default=None, description="postgres entry whose row counts are compared")
    compare_dir: str | None = Field(
        default=None, description="directory a tar backup's file count is compared to"
    )
    count_tolerance_pct: float = Field(default=10.0, ge=0, le=100)

    @field_validator("tables")
    @classmethod
    def _tables_valid(cls, value: list[str]) -> list[str]:
        return _table_names(value)

    @field_validator("min_rows")
    @classmethod
    def _min_rows_valid(cls, value: dict[str, int]) -> dict[str, int]:
        _table_names(list(value))
        for name, count in value.items():
            if count < 0:
                raise ValueError(f"min_rows.{name}: expected a row count >= 0, got {count}")
        return value

    def counted_tables(self) -> list[str]:
        """Tables whose rows are counted: `tables` plus the keys of `min_rows`, in order, once each."""
        return list(dict.fromkeys([*self.tables, *self.min_rows]))


class RestoreSpec(StrictModel):
    """The DR drill: restore the newest backup into a throwaway database and verify it."""

    tiers: list[Tier] | None = None
    sandbox: SandboxKind = "auto"
    sandbox_url: str | None = Field(default=None, description="admin URL of a scratch PostgreSQL server")
    image: str | None = Field(
        default=None, description="docker image; default postgres:<dump's major version>"
    )
    server_bin: str | None = Field(
        default=None, description="directory with initdb and pg_ctl (local sandbox)"
    )
    jobs: int | None = Field(default=None, ge=1, le=64, description="pg_restore --jobs; default: CPU cores")
    no_owner: bool = Field(default=False, description="pg_restore --no-owner --no-privileges")
    rto: Duration | None = Field(default=None, gt=0)
    timeout: Duration | None = Field(
        default=None, gt=0, description="restore step limit; default 2 x rto or 12h"
    )
    statement_timeout: Duration = Field(default=300.0, gt=0)
    expect: RestoreExpect = Field(default_factory=RestoreExpect)

    @model_validator(mode="after")
    def _url_given(self) -> RestoreSpec:
        if self.sandbox == "url" and not self.sandbox_url:
            raise ValueError(
                "sandbox: url needs `sandbox_url:` (an admin URL of a scratch server, e.g. "
                "postgresql://postgres@scratch-db:5432/postgres)"
            )
        return self

    def restore_timeout(self) -> float:
        return self.timeout or (2 * self.rto if self.rto else 12 * 3600.0)

    def thresholds(self) -> list[str]:
        """What the drill enforces (RTO, RPO, what the restored data must hold), for `validate`."""
        expect, parts = self.expect, []
        if self.rto is not None:
            parts.append(f"RTO ≤ {human_duration(self.rto)}")
        if expect.freshness is not None:
            parts.append(f"RPO ≤ {human_duration(expect.freshness.max_lag)}")
        present = [t for t in expect.tables if t not in expect.min_rows]
        if present:
            parts.append(f"tables [{', '.join(present)}]")
        parts += [f"≥ {plural(count, 'row')} in {table}" for table, count in expect.min_rows.items()]
        parts += [f"query {name} {query.describe()}" for name, query in expect.queries.items()]
        tolerance = f"within {expect.count_tolerance_pct:g}%"
        if expect.compare_to:
            parts.append(f"row counts {tolerance} of postgres:{expect.compare_to}")
        if expect.compare_dir:
            parts.append(f"file count {tolerance} of {expect.compare_dir}")
        return parts


class BackupCheck(CheckEntry):
    path: str = Field(description="directory holding the backups")
    pattern: str = Field(default="*", description="glob of backup names in `path`")
    format: BackupFormat = "auto"
    max_age: Duration | None = Field(default=None, gt=0, description="RPO gate: the newest backup's age")
    min_size: ByteSize | None = None
    max_shrink_pct: float = Field(default=50.0, ge=0, le=100)
    retention: Retention | None = None
    checksum: Literal["auto", "required", "off"] = "auto"
    min_files: int | None = Field(default=None, ge=0, description="tar: members the archive must hold")
    min_items: int | None = Field(default=None, ge=0, description="json: items the document must hold")
    items_path: str | None = Field(default=None, description="json: dotted path of the counted list/object")
    allow_schema_only: bool = False
    ignore: list[str] = Field(default_factory=lambda: list(IN_PROGRESS_PATTERNS))
    settle: Duration = Field(default=2.0, ge=0, description="watch a just-modified newest file this long")
    client_bin: str | None = Field(default=None, description="directory with pg_restore and psql")
    restore: RestoreSpec | None = None

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

    def thresholds(self) -> list[str]:
        """What the daily backup check enforces (freshness, size, retention, contents), for `validate`."""
        parts = [] if self.format == "auto" else [f"format {self.format}"]
        if self.max_age is not None:
            parts.append(f"newest ≤ {human_duration(self.max_age)} old")
        if self.min_size is not None:
            parts.append(f"size ≥ {format_size(self.min_size)}")
        if self.max_shrink_pct < 100:
            parts.append(f"shrink ≤ {self.max_shrink_pct:g}%")
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

    def mismatches(self, facts: BackupFacts | DrillFacts) -> list[str]:
        """What is wrong with the backups (daily check) or with the drill, given what was observed."""
        from opsverify.drills.drill import DrillFacts

        if isinstance(facts, DrillFacts):
            return self.drill_mismatches(facts)
        return self.backup_mismatches(facts)

    def backup_mismatches(self, facts: BackupFacts) -> list[str]:
        if facts.error:
            return [facts.error]
        newest = facts.newest
        if newest is None:
            return [facts.describe_empty()]
        problems: list[str] = []
        age = facts.checked_at - newest.mtime
        if self.max_age is not None and age > self.max_age:
            note = facts.in_progress_note()
            problems.append(
                f"newest backup {newest.name} is {human_duration(age)} old; max_age is "
                f"{human_duration(self.max_age)} (RPO gate): is the backup job running? check its schedule "
                f"and log{note}"
            )
        if self.min_size is not None and newest.size < self.min_size:
            problems.append(
                f"newest backup {newest.name} is {format_size(newest.size)}; min_size is "
                f"{format_size(self.min_size)}: the dump is smaller than any real one"
            )
        previous = facts.previous
        if previous is not None and previous.size > 0:
            shrink = 100.0 * (previous.size - newest.size) / previous.size
            if shrink > self.max_shrink_pct:
                problems.append(
                    f"newest backup {newest.name} ({format_size(newest.size)}) is {shrink:.0f}% smaller than the "
                    f"previous one {previous.name} ({format_size(previous.size)}); max_shrink_pct is "
                    f"{self.max_shrink_pct:g}: was data deleted, or was the dump cut short?"
                )
        problems += self._retention_mismatches(facts)
        if facts.changed_during_check:
            problems.append(facts.changed_during_check)
        problems += self.integrity_mismatches(facts)
        return problems

    def _retention_mismatches(self, facts: BackupFacts) -> list[str]:
        if self.retention is None:
            return []
        problems = []
        count = len(facts.files)
        if self.retention.min_count is not None and count < self.retention.min_count:
            problems.append(
                f"{plural(count, 'backup')} match{'es' if count == 1 else ''} {self.pattern} in {self.path}; "
                f"retention.min_count is {self.retention.min_count}: older backups were deleted too early"
            )
        oldest = facts.files[-1] if facts.files else None
        if oldest is not None and self.retention.max_age is not None:
            age = facts.checked_at - oldest.mtime
            if age > self.retention.max_age:
                problems.append(
                    f"oldest backup {oldest.name} is {human_duration(age)} old; retention.max_age is "
                    f"{human_duration(self.retention.max_age)}: old backups are not being pruned"
                )
        return problems

    def integrity_mismatches(self, facts: BackupFacts) -> list[str]:
        """Format and checksum problems of the newest backup (shared by the daily check and the drill)."""
        inspection, newest = facts.inspection, facts.newest
        if inspection is None or newest is None:
            return []
        name = newest.name
        problems = [f"{name}: {defect}" for defect in inspection.defects]
        if not inspection.defects:
            problems += [f"{name}: {p}" for p in self._content_mismatches(facts)]
        if facts.checksum is not None:
            problems += [
                f"{name}: {p}" for p in facts.checksum.problems(required=self.checksum == "required")
            ]
        return problems

    def _content_mismatches(self, facts: BackupFacts) -> list[str]:
        inspection = facts.inspection
        assert inspection is not None
        problems = []
        if inspection.is_sql and not self.allow_schema_only and inspection.data_sections == 0:
            problems.append(
                f"schema-only dump: {inspection.create_tables} CREATE TABLE but no COPY or INSERT data "
                "(made with pg_dump --schema-only?); dump the data too, or set allow_schema_only: true"
            )
        if inspection.kind == "tar" and self.min_files is not None and inspection.files < self.min_files:
            problems.append(
                f"archive holds {plural(inspection.files, 'file')}; min_files is {self.min_files}"
            )
        if (
            inspection.format == "json"
            and self.min_items is not None
            and (inspection.items or 0) < self.min_items
        ):
            where = f" at {self.items_path}" if self.items_path else ""
            problems.append(
                f"JSON document holds {plural(inspection.items or 0, 'item')}{where}; "
                f"min_items is {self.min_items}"
            )
        return problems

    def drill_mismatches(self, facts: DrillFacts) -> list[str]:
        """What is wrong with a restore drill: integrity, restore errors, verification, RTO."""
        from opsverify.drills.verify import verification_mismatches

        if facts.backup is not None and (facts.backup.error or facts.backup.newest is None):
            return self.backup_mismatches(facts.backup)
        problems: list[str] = []
        if facts.backup is not None:
            problems += self.integrity_mismatches(facts.backup)
        if facts.error:
            problems.append(facts.error)
        if problems:
            return problems
        assert self.restore is not None
        problems += verification_mismatches(self.restore.expect, facts.verification)
        if self.restore.rto is not None and facts.rto_seconds > self.restore.rto:
            slowest = max(facts.steps, key=lambda s: s.seconds).name if facts.steps else "?"
            problems.append(
                f"drill took {human_duration(facts.rto_seconds)} from start to verified; rto is "
                f"{human_duration(self.restore.rto)} (slowest step: {slowest})"
            )
        return problems
