"""What a restored copy must hold (`restore.expect` of a backups entry): tables, rows, queries, freshness; or,
for a folder restored from a restic snapshot or Borg archive, its files, their count and checksums."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from opsverify.comparison import QueryExpectation
from opsverify.config.types import Duration, StrictModel

# A table name as written in SQL: `bookings`, `public.bookings`, `"Mixed Case"` quoted parts allowed.
_TABLE = re.compile(r'^(?:[A-Za-z_][A-Za-z0-9_$]*|"[^"]+")(?:\.(?:[A-Za-z_][A-Za-z0-9_$]*|"[^"]+"))?$')
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _relative_path(path: str, key: str) -> str:
    """A path inside the restored folder: relative, no `..` (the folder is `path` of the entry)."""
    parts = path.split("/")
    if not path or path.startswith("/") or ".." in parts:
        raise ValueError(
            f"{key}: expected a path relative to the restored folder (the entry's `path`), like "
            f"uploads/logo.png or *.pdf, got {path!r}"
        )
    return path


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
    files: list[str] = Field(
        default_factory=list,
        description="restored folder: paths (globs allowed) each matching at least one file",
    )
    min_count: int | None = Field(default=None, ge=0, description="restored folder: at least this many files")
    sha256: dict[str, str] = Field(
        default_factory=dict, description="restored folder: path -> the file's sha256 (64 hex digits)"
    )

    @field_validator("files")
    @classmethod
    def _files_relative(cls, value: list[str]) -> list[str]:
        return [_relative_path(path, "files") for path in value]

    @field_validator("sha256")
    @classmethod
    def _sha256_valid(cls, value: dict[str, str]) -> dict[str, str]:
        checked = {}
        for path, digest in value.items():
            _relative_path(path, f"sha256.{path}")
            if any(char in path for char in "*?["):
                raise ValueError(f"sha256.{path}: name one file, not a glob")
            if not _SHA256.match(str(digest).lower()):
                raise ValueError(f"sha256.{path}: expected 64 hex digits (`sha256sum FILE`), got {digest!r}")
            checked[path] = str(digest).lower()
        return checked

    def checks_files(self) -> bool:
        """Whether the drill restores a folder and checks its files (`files`, `min_count`, `sha256`)."""
        return bool(self.files or self.sha256) or self.min_count is not None

    def database_keys(self) -> list[str]:
        """The keys that check a restored database (set ones), for messages."""
        keys = ["tables", "min_rows", "queries", "freshness", "compare_to", "compare_dir"]
        return [key for key in keys if getattr(self, key)]

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
