"""Verifying a restored backup: tables, row counts, queries, data freshness (the measured RPO), comparisons.

`verify_*` read the restored copy (and, for `compare_to`, production, read-only) into a Verification;
`verification_mismatches` says what about it contradicts the entry's `expect` block.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql

from opsverify.config.types import human_duration, plural
from opsverify.drills.sandbox import CONNECT_TIMEOUT, first_line

if TYPE_CHECKING:
    from opsverify.config.backups import RestoreExpect
    from opsverify.config.postgres import QueryExpectation


@dataclass
class Verification:
    """What the restored copy (and production, for comparisons) showed."""

    tables: dict[str, bool] = field(default_factory=dict)
    row_counts: dict[str, int] = field(default_factory=dict)
    queries: dict[str, Any] = field(default_factory=dict)
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


def verify_postgres(url: str, expect: RestoreExpect, statement_timeout: float) -> Verification:
    """Run the expect block against the restored database (read-only transactions, statement timeout)."""
    result = Verification()
    try:
        connection = psycopg.connect(
            url,
            autocommit=True,
            connect_timeout=CONNECT_TIMEOUT,
            options=f"-c statement_timeout={int(statement_timeout * 1000)} -c default_transaction_read_only=on",
            application_name="opsverify-drill-verify",
        )
    except psycopg.Error as exc:
        result.error = f"cannot connect to the restored database: {first_line(exc)}"
        return result
    with connection:
        _postgres_tables(connection, expect, result)
        _run_queries(connection.execute, expect, result, psycopg.Error, first_line)
    return result


def _postgres_tables(
    connection: psycopg.Connection[Any], expect: RestoreExpect, result: Verification
) -> None:
    for table in expect.counted_tables():
        row = connection.execute("select to_regclass(%s)::text", (table,)).fetchone()
        resolved = row[0] if row else None
        result.tables[table] = resolved is not None
        if resolved is None:
            continue
        # `resolved` is the server's own quoted spelling of an existing relation, safe to splice in.
        count = connection.execute(sql.SQL("select count(*) from {}").format(sql.SQL(resolved))).fetchone()
        result.row_counts[table] = int(count[0]) if count else 0


def count_production(url: str, tables: list[str], statement_timeout: float, result: Verification) -> None:
    """Row counts of `tables` in production: a read-only session with a statement timeout, nothing else."""
    try:
        with psycopg.connect(
            url,
            autocommit=True,
            connect_timeout=CONNECT_TIMEOUT,
            options=f"-c statement_timeout={int(statement_timeout * 1000)} -c default_transaction_read_only=on",
            application_name="opsverify-drill-compare",
        ) as connection:
            for table in tables:
                row = connection.execute("select to_regclass(%s)::text", (table,)).fetchone()
                if not row or row[0] is None:
                    continue
                count = connection.execute(
                    sql.SQL("select count(*) from {}").format(sql.SQL(row[0]))
                ).fetchone()
                result.production_counts[table] = int(count[0]) if count else 0
    except psycopg.Error as exc:
        result.compare_error = f"cannot count rows in production: {first_line(exc)}"


def verify_sqlite(path: Path, expect: RestoreExpect) -> Verification:
    """The same expect block against a restored SQLite copy."""
    result = Verification()
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error as exc:
        result.error = f"cannot open the restored copy: {exc}"
        return result
    try:
        names = {
            str(r[0]).lower()
            for r in connection.execute("select name from sqlite_master where type in ('table','view')")
        }
        for table in expect.counted_tables():
            bare = table.split(".")[-1].strip('"')
            result.tables[table] = bare.lower() in names
            if result.tables[table]:
                quoted = '"' + bare.replace('"', '""') + '"'
                result.row_counts[table] = int(
                    connection.execute(f"select count(*) from {quoted}").fetchone()[0]
                )
        _run_queries(connection.execute, expect, result, sqlite3.Error, str)
    finally:
        connection.close()
    return result


def _run_queries(
    execute: Callable[[str], Any],
    expect: RestoreExpect,
    result: Verification,
    error_type: type[Exception],
    describe: Callable[[Exception], str],
) -> None:
    """`expect.queries` and `expect.freshness` on a DB-API connection (PostgreSQL or SQLite alike)."""
    for name, query in expect.queries.items():
        try:
            row = execute(query.sql).fetchone()
            result.queries[name] = row[0] if row else None
        except error_type as exc:
            result.query_errors[name] = describe(exc)
    if expect.freshness is not None:
        try:
            row = execute(expect.freshness.sql).fetchone()
            _freshness(row[0] if row else None, result)
        except error_type as exc:
            result.freshness_error = f"query failed: {describe(exc)}"


def _freshness(value: Any, result: Verification) -> None:
    newest = as_datetime(value)
    if newest is None:
        result.freshness_error = (
            f"the query returned {value!r}, expected a timestamp (an empty table returns NULL)"
            if value is None
            else f"the query returned {value!r}, expected a timestamp, a date or epoch seconds"
        )
        return
    result.newest_row = newest
    result.data_lag_s = time.time() - newest.timestamp()


def as_datetime(value: Any) -> datetime | None:
    """A timestamp from a query value: datetime (naive = UTC), date, epoch seconds/milliseconds, ISO text."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        seconds = float(value)
        return datetime.fromtimestamp(seconds / 1000 if seconds > 1e11 else seconds, tz=UTC)
    if isinstance(value, str):
        try:
            return as_datetime(datetime.fromisoformat(value.strip().replace("Z", "+00:00")))
        except ValueError:
            return None
    return None


def verification_mismatches(
    expect: RestoreExpect, found: Verification, compare_label: str = "production"
) -> list[str]:
    """What about the restored data contradicts `expect` (one line per problem)."""
    if found.error:
        return [found.error]
    problems = []
    missing = [table for table, present in found.tables.items() if not present]
    if missing:
        problems.append(
            f"restored database lacks expected table{'s' if len(missing) > 1 else ''} {', '.join(missing)}: "
            "is this a dump of the right database?"
        )
    for table, minimum in expect.min_rows.items():
        count = found.row_counts.get(table)
        if count is not None and count < minimum:
            problems.append(
                f"table {table} has {plural(count, 'row')} after the restore; min_rows is {minimum}"
            )
    for name, query in expect.queries.items():
        if name in found.query_errors:
            problems.append(f"query {name}: {found.query_errors[name]}")
        elif (problem := query_mismatch(query, found.queries.get(name))) is not None:
            problems.append(f"query {name}: {problem}")
    if expect.freshness is not None:
        if found.freshness_error:
            problems.append(f"freshness: {found.freshness_error}")
        elif found.data_lag_s is not None and found.data_lag_s > expect.freshness.max_lag:
            newest = found.newest_row.isoformat(timespec="seconds") if found.newest_row else "?"
            problems.append(
                f"freshness: newest row is {human_duration(found.data_lag_s)} old ({newest}); max_lag is "
                f"{human_duration(expect.freshness.max_lag)}: restoring this backup would lose that much data (RPO)"
            )
    problems += _comparison_mismatches(expect, found, compare_label)
    return problems


def _comparison_mismatches(expect: RestoreExpect, found: Verification, label: str) -> list[str]:
    problems = []
    tolerance = expect.count_tolerance_pct
    if expect.compare_to is not None:
        if found.compare_error:
            problems.append(f"compare_to {expect.compare_to}: {found.compare_error}")
        for table, live in found.production_counts.items():
            restored = found.row_counts.get(table)
            if restored is None:
                continue
            diff = 100.0 * abs(live - restored) / max(live, 1)
            if diff > tolerance:
                problems.append(
                    f"table {table}: {plural(restored, 'row')} restored vs {live} in {label} ({expect.compare_to}), "
                    f"{diff:.1f}% apart; count_tolerance_pct is {tolerance:g}"
                )
    if expect.compare_dir is not None and found.files is not None:
        if found.compare_files is None:
            problems.append(f"compare_dir {expect.compare_dir} does not exist or cannot be read")
        else:
            diff = 100.0 * abs(found.compare_files - found.files) / max(found.compare_files, 1)
            if diff > tolerance:
                problems.append(
                    f"archive restored {plural(found.files, 'file')} vs {found.compare_files} in {expect.compare_dir}, "
                    f"{diff:.1f}% apart; count_tolerance_pct is {tolerance:g}"
                )
    return problems


def query_mismatch(query: QueryExpectation, value: Any) -> str | None:
    """How `value` (the first column of the first row) fails `equals` / `min` / `max`, or None."""
    if query.equals is not None and not _equal(value, query.equals):
        return f"expected {query.equals!r}, got {value!r}"
    if query.min is not None or query.max is not None:
        number = _number(value)
        if number is None:
            return f"expected a number, got {value!r}"
        if query.min is not None and number < query.min:
            return f"got {number:g}; min is {query.min:g}"
        if query.max is not None and number > query.max:
            return f"got {number:g}; max is {query.max:g}"
    return None


def _equal(value: Any, wanted: Any) -> bool:
    if isinstance(wanted, bool) or isinstance(value, bool):
        return value is wanted or str(value).lower() == str(wanted).lower()
    number, wanted_number = _number(value), _number(wanted)
    if number is not None and wanted_number is not None and not isinstance(wanted, str):
        return number == wanted_number
    return str(value) == str(wanted)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
