"""What verifying a restored copy found (a leaf): tables, row counts, query answers, the newest row; the files
of a restored folder."""

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
    missing_files: list[str] = field(default_factory=list)  # expect.files that matched no restored file
    file_sha256: dict[str, str | None] = field(
        default_factory=dict
    )  # expect.sha256 paths: found digest or None
    error: str | None = None

    @property
    def rows_checked(self) -> int:
        return sum(self.row_counts.values())
