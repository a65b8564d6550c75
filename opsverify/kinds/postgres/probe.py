"""PostgreSQL probe: a read-only session with a statement timeout; revision, connections, long queries,
invalid indexes, named queries. Every query runs in a READ ONLY transaction that is rolled back, never committed."""

from __future__ import annotations

import contextlib
import math
import re
import time
from typing import TYPE_CHECKING, Any, LiteralString
from urllib.parse import unquote, urlsplit

import psycopg
from psycopg import errors
from psycopg.conninfo import conninfo_to_dict

from opsverify.kinds.base import ProbeContext
from opsverify.kinds.database_probe import plain_value, record_activity
from opsverify.kinds.postgres.facts import PostgresFacts, QueryResult
from opsverify.redaction import MASK, redact

if TYPE_CHECKING:
    from opsverify.kinds.postgres.model import PostgresCheck

APPLICATION_NAME = "opsverify"
_DRIVER_SUFFIX = re.compile(r"^(postgres(?:ql)?)\+[a-z0-9_]+://", re.IGNORECASE)

_ACTIVITY_SQL: LiteralString = """
    select (select count(*) from pg_stat_activity where backend_type = 'client backend'),
           current_setting('max_connections')::int
"""
# Longest running statement in this database other than our own session's.
_LONGEST_SQL: LiteralString = """
    select pid, coalesce(usename, ''), extract(epoch from clock_timestamp() - query_start)::float8,
           coalesce(query, '')
      from pg_stat_activity
     where state = 'active' and pid <> pg_backend_pid() and datname = current_database()
       and backend_type = 'client backend' and query_start is not null
     order by query_start
     limit 1
"""
# A failed CREATE INDEX CONCURRENTLY leaves an invalid index: updated on every write, never used by a query.
INVALID_INDEXES_SQL: LiteralString = (
    "select indexrelid::regclass::text from pg_index where not indisvalid order by 1"
)


def libpq_url(url: str) -> str:
    """Accept SQLAlchemy-style URLs (`postgresql+psycopg://`) as they appear in apps' .env files."""
    return _DRIVER_SUFFIX.sub(r"\1://", url)


def connect_readonly(entry: PostgresCheck) -> psycopg.Connection[Any]:
    """Open a session that cannot write: default_transaction_read_only=on plus READ ONLY transactions,
    statement_timeout and connect_timeout from the entry. Raises psycopg.Error."""
    extra: dict[str, Any] = {"password": entry.password} if entry.password is not None else {}
    try:
        connection = psycopg.connect(
            libpq_url(entry.url),
            connect_timeout=max(2, math.ceil(entry.connect_timeout)),  # libpq's minimum is 2 seconds
            application_name=APPLICATION_NAME,
            autocommit=True,
            **extra,
        )
    except psycopg.Error as exc:
        # libpq may quote the connection string; re-raise without it (and without the chained original).
        raise type(exc)(scrub(str(exc), entry)) from None
    try:
        timeout_ms = str(max(1, round(entry.statement_timeout * 1000)))
        connection.execute(
            "select set_config('default_transaction_read_only', 'on', false),"
            " set_config('statement_timeout', %s, false)",
            (timeout_ms,),
        )
        connection.read_only = True
        connection.autocommit = False
    except BaseException:
        connection.close()
        raise
    return connection


def probe(entry: PostgresCheck, ctx: ProbeContext) -> PostgresFacts:
    """Connect read-only and read what the entry asks about; errors become `facts.error`."""
    facts = PostgresFacts(where=describe_location(entry))
    started = time.perf_counter()
    try:
        connection = connect_readonly(entry)
    except psycopg.Error as exc:
        facts.error = describe_error(exc, entry, facts.where, connecting=True)
        return facts
    try:
        with connection.transaction(force_rollback=True):
            row = connection.execute(
                "select 1, current_setting('transaction_read_only'), current_setting('server_version')"
            ).fetchone()
        facts.latency_ms = (time.perf_counter() - started) * 1000
        facts.connected = True
        facts.read_only = bool(row and row[1] == "on")
        facts.server_version = str(row[2]) if row else ""
        if entry.expect_revision is not None:
            facts.revision = _first_value(connection, entry.expect_revision.sql, entry, facts.where)
        if entry.max_connections_pct is not None or entry.max_query_seconds is not None:
            _read_activity(connection, facts, entry)
        if entry.invalid_indexes:
            _read_invalid_indexes(connection, facts, entry)
        for name, expectation in entry.queries.items():
            facts.queries[name] = _first_value(connection, expectation.sql, entry, facts.where)
    except psycopg.Error as exc:
        facts.error = describe_error(exc, entry, facts.where)
    finally:
        connection.close()
    return facts


def _first_value(
    connection: psycopg.Connection[Any], sql: str, entry: PostgresCheck, where: str
) -> QueryResult:
    try:
        with connection.transaction(force_rollback=True):
            row = connection.execute(sql.encode()).fetchone()
    except psycopg.Error as exc:
        if connection.closed or connection.broken:
            raise
        return QueryResult(error=describe_error(exc, entry, where))
    if row is None:
        return QueryResult()
    return QueryResult(value=plain_value(row[0]) if len(row) else None, found=True)


def _read_activity(connection: psycopg.Connection[Any], facts: PostgresFacts, entry: PostgresCheck) -> None:
    try:
        with connection.transaction(force_rollback=True):
            counts = connection.execute(_ACTIVITY_SQL).fetchone()
            longest = connection.execute(_LONGEST_SQL).fetchone()
    except psycopg.Error as exc:
        if connection.closed or connection.broken:
            raise
        facts.activity_error = describe_error(exc, entry, facts.where)
        return
    record_activity(facts, counts, longest)


def _read_invalid_indexes(
    connection: psycopg.Connection[Any], facts: PostgresFacts, entry: PostgresCheck
) -> None:
    try:
        with connection.transaction(force_rollback=True):
            rows = connection.execute(INVALID_INDEXES_SQL).fetchall()
    except psycopg.Error as exc:
        if connection.closed or connection.broken:
            raise
        facts.invalid_indexes_error = describe_error(exc, entry, facts.where)
        return
    facts.invalid_indexes = [str(row[0]) for row in rows]


def describe_location(entry: PostgresCheck) -> str:
    """host:port/database of the entry's URL, without credentials."""
    try:
        params = conninfo_to_dict(libpq_url(entry.url))
    except psycopg.Error:
        parts = urlsplit(entry.url)
        return f"{parts.hostname or '?'}:{parts.port or 5432}{parts.path or ''}"
    host = str(params.get("host") or "localhost")
    return f"{host}:{params.get('port') or 5432}/{params.get('dbname') or params.get('user') or ''}"


def describe_error(exc: psycopg.Error, entry: PostgresCheck, where: str, connecting: bool = False) -> str:
    """One line an operator understands, with the fix; never the password."""
    text = scrub(str(exc), entry)
    if connecting:
        return _connect_error(exc, text, entry, where)
    reason = _first_line(text)
    if isinstance(exc, errors.QueryCanceled):
        return (
            f"query on {where} cancelled after statement_timeout {entry.statement_timeout:g}s; make it "
            "cheaper or raise `statement_timeout:`"
        )
    if isinstance(exc, errors.ReadOnlySqlTransaction):
        return f"query on {where} tried to write ({reason}); checks run read-only: use a select"
    if exc.sqlstate is None and isinstance(exc, psycopg.ProgrammingError):
        return f"the query returned no rows to compare ({reason}); use a select that returns a value"
    if exc.sqlstate is None:
        return f"lost the connection to {where}: {reason}"
    return f"query failed on {where}: {reason} (SQLSTATE {exc.sqlstate})"


def _connect_error(exc: psycopg.Error, text: str, entry: PostgresCheck, where: str) -> str:
    reason = _first_line(text.rsplit(" failed: ", 1)[-1]).replace("FATAL:  ", "")
    if isinstance(exc, psycopg.ProgrammingError):
        return f"invalid PostgreSQL URL: {reason}; write postgresql://USER:PASSWORD@HOST:PORT/DATABASE"
    if "Connection refused" in text:
        return f"connection refused by {where} (target unreachable: is PostgreSQL running and listening?)"
    if "timeout expired" in text:
        return f"connect to {where} timed out after {max(2, math.ceil(entry.connect_timeout))}s"
    if "password authentication failed" in text or "no password supplied" in text:
        return f"authentication failed on {where}: {reason}; check the user and password of the URL"
    if "database" in text and "does not exist" in text:
        return f"{reason} on {where}; check the database name at the end of the URL"
    if "role" in text and "does not exist" in text:
        return f"{reason} on {where}; check the user name in the URL"
    if "could not translate host name" in text:
        return f"cannot resolve the host of {where} (target unreachable: check the URL)"
    return f"connection to {where} failed: {reason}"


def scrub(text: str, entry: PostgresCheck) -> str:
    """Remove the entry's password from driver messages (they can quote the connection string)."""
    secrets = {entry.password or ""}
    url = libpq_url(entry.url)
    with contextlib.suppress(psycopg.Error):
        secrets.add(str(conninfo_to_dict(url).get("password") or ""))
    try:
        password = urlsplit(url).password or ""
    except ValueError:
        password = ""
    secrets |= {password, unquote(password)}
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return redact(text)


def _first_line(text: str) -> str:
    line = next((part.strip() for part in text.splitlines() if part.strip()), text.strip())
    return line[:300]
