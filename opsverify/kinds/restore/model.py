"""Config model of a backup entry's `restore:` block: the DR drill (tier dr) and what the restored data must hold.

The restore kind reads the `backups:` section: its entries are `opsverify.kinds.backups.model.BackupCheck`,
whose `restore:` key is the `RestoreSpec` below.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from opsverify.comparison import QueryExpectation
from opsverify.config.types import Duration, StrictModel, Tier
from opsverify.units import human_duration, plural

SandboxKind = Literal["auto", "url", "docker", "local"]

# A table name as written in SQL: `bookings`, `public.bookings`, `"Mixed Case"` quoted parts allowed.
_TABLE = re.compile(r'^(?:[A-Za-z_][A-Za-z0-9_$]*|"[^"]+")(?:\.(?:[A-Za-z_][A-Za-z0-9_$]*|"[^"]+"))?$')


def _table_names(names: list[str]) -> list[str]:
    for name in names:
        if not _TABLE.match(name):
            raise ValueError(f"expected a table name like bookings or public.bookings, got {name!r}")
    return names


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
        default=None,
        description="docker image; default postgres:<dump's major version>, mariadb:/mysql:<dump's server version>",
    )
    server_bin: str | None = Field(
        default=None, description="directory with initdb and pg_ctl (local sandbox)"
    )
    jobs: int | None = Field(default=None, ge=1, le=64, description="pg_restore --jobs; default: CPU cores")
    no_owner: bool = Field(default=False, description="pg_restore --no-owner --no-privileges")
    rto: Duration | None = Field(default=None, gt=0)
    rto_warn_pct: float | None = Field(
        default=80.0, gt=0, le=100, description="warn (not fail) when the RTO passes this share of `rto`"
    )
    rto_trend_runs: int = Field(
        default=4, ge=0, le=50, description="warn when the RTO rose on each of this many last runs (0: off)"
    )
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
