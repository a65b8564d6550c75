"""What a restored copy must hold (`restore.expect` of a backups entry): tables, rows, queries, freshness."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from opsverify.comparison import QueryExpectation
from opsverify.config.types import Duration, StrictModel

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
