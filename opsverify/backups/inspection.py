"""What reading one backup found (a leaf): its format, sizes, hash and defects, as plain data."""

from __future__ import annotations

from dataclasses import dataclass, field

from opsverify.units import format_size, plural

SQL_FORMATS = ("pg-plain", "pg-custom", "pg-directory", "mysql-plain")
# Formats whose gzip-compressed variant is named `<format>-gz` (a `format:` value); the others read
# `<format> (gzip)`. The format registry adds a plugin format here when it declares `gz_suffix=True`.
GZ_SUFFIXED: set[str] = {"pg-plain", "mysql-plain"}


@dataclass(frozen=True)
class Detected:
    """A backup's format and whether it is gzip-compressed; `label` is how messages name it."""

    format: str
    gzip: bool = False

    @property
    def label(self) -> str:
        if self.format == "gzip":
            return "gzip"
        if self.format in GZ_SUFFIXED and self.gzip:
            return f"{self.format}-gz"
        return f"{self.format}{' (gzip)' if self.gzip else ''}"


class FormatError(Exception):
    """The file cannot be one of the supported formats; the message says what it looks like instead."""


@dataclass
class Inspection:
    """What one read of the backup found. `defects` are format problems that no setting excuses."""

    format: str
    detected: Detected | None = None
    bytes_read: int = 0
    inflated_bytes: int | None = None
    sha256: str | None = None
    seconds: float = 0.0
    defects: list[str] = field(default_factory=list)
    header: bool = False
    trailer: bool = False
    create_tables: int = 0
    copies: int = 0
    inserts: int = 0
    dumped_from: str | None = None
    databases: list[str] = field(default_factory=list)  # mysql-plain: the header's Database: and each USE
    members: int = 0
    files: int = 0
    items: int | None = None
    tables: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        """The format without compression: pg-plain, pg-custom, pg-directory, sqlite, tar, json, gzip."""
        return self.detected.format if self.detected is not None else "unknown"

    @property
    def is_sql(self) -> bool:
        return self.detected is not None and self.detected.format in SQL_FORMATS

    @property
    def data_sections(self) -> int:
        return self.copies + self.inserts

    def summary(self) -> str:
        """One line for evidence: format, sizes, what was found."""
        parts = [self.format, f"{format_size(self.bytes_read)} read"]
        if self.inflated_bytes is not None:
            parts.append(f"{format_size(self.inflated_bytes)} inflated")
        if self.kind == "mysql-plain":
            parts.append(f"{self.create_tables} CREATE TABLE, {self.inserts} INSERT")
            parts.append(f"trailer {'present' if self.trailer else 'MISSING'}")
            if self.databases:
                parts.append(f"database {', '.join(self.databases[:5])}")
            if self.dumped_from:
                parts.append(f"dumped from {self.dumped_from}")
        elif self.is_sql:
            parts.append(f"{self.create_tables} CREATE TABLE, {self.copies} COPY, {self.inserts} INSERT")
            parts.append(f"trailer {'present' if self.trailer else 'MISSING'}")
            if self.dumped_from:
                parts.append(f"dumped from PostgreSQL {self.dumped_from}")
        elif self.detected and self.detected.format == "tar":
            parts.append(f"{plural(self.files, 'file')} in {plural(self.members, 'member')}")
        elif self.detected and self.detected.format == "json":
            parts.append(plural(self.items or 0, "item"))
        elif self.detected and self.detected.format == "sqlite":
            parts.append(plural(len(self.tables), "table"))
        if self.sha256:
            parts.append(f"sha256 {self.sha256[:16]}…")
        return ", ".join(parts) + f" in {self.seconds:.2f}s"
