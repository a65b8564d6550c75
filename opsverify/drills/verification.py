"""What verifying a restored copy found (a leaf): tables, row counts, query answers, the newest row."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class Verification:
    """What the restored copy (and production, for comparisons) showed."""

    tables: dict[str, bool] = field(default_factory=dict)
    row_counts: dict[str, int] = field(default_factory=dict)
    queries: dict[str, Any] = field(default_factory=dict)  # first column of the first row; no rows: no key
    query_errors: dict[str, str] = field(default_factory=dict)
    newest_row: datetime | None = None
    data_lag_s: float | None = None
    freshness_error: str | None = None
    production_counts: dict[str, int] = field(default_factory=dict)
    compare_error: str | None = None
    files: int | None = None
    compare_files: int | None = None
    error: str | None = None

    @property
    def rows_checked(self) -> int:
        return sum(self.row_counts.values())
