"""Verifying a restored backup: tables, row counts, queries, data freshness (the measured RPO), comparisons.

`verify_*` run the `expect` block's queries on the restored copy (and, for `compare_to`, count rows in
production, read-only) and return what they found as a `Verification` (facts). Whether that meets the
entry is the restore verdict's job (`opsverify.kinds.restore.verdict`).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql

from opsverify.drills.sandbox import CONNECT_TIMEOUT, first_line
from opsverify.drills.verification import Verification

if TYPE_CHECKING:
    from opsverify.drills.expect import RestoreExpect


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
            if row:
                result.queries[name] = row[0]
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
