"""MySQL / MariaDB probe (PyMySQL): a read-only session with a statement time limit; revision, connections,
the longest running query, the replica status, named queries. Every query runs in a `START TRANSACTION READ
ONLY` that is rolled back, never committed."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pymysql
import pymysql.cursors

from opsverify.kinds.base import ProbeContext
from opsverify.kinds.database_probe import plain_value, record_activity
from opsverify.kinds.mysql.facts import MysqlFacts, QueryResult, ReplicaStatus
from opsverify.mysql_endpoint import DEFAULT_PORT, PROGRAM_NAME, Endpoint, endpoint
from opsverify.redaction import MASK, redact

__all__ = ["DEFAULT_PORT", "PROGRAM_NAME", "Endpoint", "connect_readonly", "endpoint", "probe"]

if TYPE_CHECKING:
    from opsverify.kinds.mysql.model import MysqlCheck

# Error codes (client 2xxx, server 1xxx/3xxx) that get a message with the fix.
_REFUSED_OR_UNREACHABLE = 2003
_UNKNOWN_HOST = 2005
_LOST = (2006, 2013)
_ACCESS_DENIED = (1044, 1045, 1698)
_UNKNOWN_DATABASE = 1049
_READ_ONLY = 1792
_STATEMENT_TIMEOUT = (1969, 3024)  # MariaDB max_statement_time, MySQL max_execution_time

# Other sessions' running statements, longest first (not ours, not replication or daemon threads).
_LONGEST_SQL = """
    select ID, coalesce(USER, ''), TIME, coalesce(INFO, '')
      from information_schema.PROCESSLIST
     where ID <> connection_id() and COMMAND not in ('Sleep', 'Daemon', 'Binlog Dump', 'Binlog Dump GTID')
       and USER not in ('system user', 'event_scheduler') and INFO is not null
     order by TIME desc
     limit 1
"""


def connect_readonly(entry: MysqlCheck) -> tuple[Any, str, str]:
    """A session that cannot write (`SET SESSION TRANSACTION READ ONLY`) with the statement limit of the
    server's flavour: (connection, version, the limit variable). Raises pymysql.MySQLError."""
    target = endpoint(entry.url, entry.password)
    # The socket timeout is a backstop above the server-side limit (which cancels only the statement).
    connection = target.connect(entry.connect_timeout, read_timeout=entry.statement_timeout + 10)
    try:
        with connection.cursor() as cursor:
            cursor.execute("select version()")
            version = str(cursor.fetchone()[0])
            if "mariadb" in version.lower():
                variable = "max_statement_time"
                cursor.execute("set session max_statement_time = %s", (entry.statement_timeout,))
            else:
                variable = "max_execution_time"
                cursor.execute(
                    "set session max_execution_time = %s", (max(1, round(entry.statement_timeout * 1000)),)
                )
            cursor.execute("set session transaction read only")
    except BaseException:
        connection.close()
        raise
    return connection, version, variable


def probe(entry: MysqlCheck, ctx: ProbeContext) -> MysqlFacts:
    """Connect read-only and read what the entry asks about; errors become `facts.error`."""
    target = endpoint(entry.url, entry.password)
    facts = MysqlFacts(where=target.where)
    started = time.perf_counter()
    try:
        connection, version, variable = connect_readonly(entry)
    except pymysql.MySQLError as exc:
        facts.error = describe_error(exc, entry, facts.where, connecting=True)
        return facts
    try:
        facts.server_version = version.split("-", 1)[0]
        facts.flavour = "MariaDB" if "mariadb" in version.lower() else "MySQL"
        facts.statement_limit = variable
        row = _row(connection, "select 1, " + _read_only_variable(connection))
        facts.latency_ms = (time.perf_counter() - started) * 1000
        facts.connected = True
        facts.read_only = bool(row and int(row[1]) == 1)
        if entry.expect_revision is not None:
            facts.revision = _first_value(connection, entry.expect_revision.sql, entry, facts.where)
        if entry.max_connections_pct is not None or entry.max_query_seconds is not None:
            _read_activity(connection, facts, entry)
        if entry.max_replica_lag is not None:
            _read_replica(connection, facts, entry)
        for name, expectation in entry.queries.items():
            facts.queries[name] = _first_value(connection, expectation.sql, entry, facts.where)
    except pymysql.MySQLError as exc:
        facts.error = describe_error(exc, entry, facts.where)
    finally:
        connection.close()
    return facts


def _read_only_variable(connection: Any) -> str:
    """`@@session.transaction_read_only` (MySQL 8, MariaDB 11.1+) or `@@session.tx_read_only` (older MariaDB)."""
    try:
        _row(connection, "select @@session.transaction_read_only")
    except pymysql.MySQLError:
        return "@@session.tx_read_only"
    return "@@session.transaction_read_only"


def _row(connection: Any, sql: str) -> Any:
    with connection.cursor() as cursor:
        cursor.execute("start transaction read only")
        try:
            cursor.execute(sql)
            return cursor.fetchone()
        finally:
            cursor.execute("rollback")


def _first_value(connection: Any, sql: str, entry: MysqlCheck, where: str) -> QueryResult:
    try:
        row = _row(connection, sql)
    except pymysql.MySQLError as exc:
        if not connection.open or _code(exc) in _LOST:
            raise
        return QueryResult(error=describe_error(exc, entry, where))
    if row is None:
        return QueryResult()
    return QueryResult(value=plain_value(row[0]) if len(row) else None, found=True)


def _read_activity(connection: Any, facts: MysqlFacts, entry: MysqlCheck) -> None:
    try:
        counts = _row(
            connection,
            "select (select count(*) from information_schema.PROCESSLIST where COMMAND <> 'Daemon'"
            " and USER not in ('system user', 'event_scheduler')), @@global.max_connections",
        )
        longest = _row(connection, _LONGEST_SQL)
    except pymysql.MySQLError as exc:
        if not connection.open or _code(exc) in _LOST:
            raise
        facts.activity_error = describe_error(exc, entry, facts.where)
        return
    record_activity(facts, counts, longest)


def _read_replica(connection: Any, facts: MysqlFacts, entry: MysqlCheck) -> None:
    """`SHOW REPLICA STATUS` (MySQL 8.0.22+, MariaDB 10.5+), else `SHOW SLAVE STATUS`."""
    row: dict[str, Any] | None = None
    try:
        for statement in ("show replica status", "show slave status"):
            try:
                with connection.cursor(pymysql.cursors.DictCursor) as cursor:
                    cursor.execute(statement)
                    row = cursor.fetchone()
                break
            except pymysql.err.ProgrammingError:
                continue  # the syntax of the other flavour/version
    except pymysql.MySQLError as exc:
        if not connection.open or _code(exc) in _LOST:
            raise
        facts.replica_error = describe_error(exc, entry, facts.where)
        if _code(exc) in (1227, *_ACCESS_DENIED):
            facts.replica_error += "; grant the check's user REPLICATION CLIENT (MariaDB: SLAVE MONITOR)"
        return
    facts.replica_checked = True
    if not row:
        return

    def column(*names: str) -> Any:
        return next((row[name] for name in names if name in row), None)

    lag = column("Seconds_Behind_Source", "Seconds_Behind_Master")
    host = column("Source_Host", "Master_Host") or "?"
    port = column("Source_Port", "Master_Port") or DEFAULT_PORT
    facts.replica = ReplicaStatus(
        source=f"{host}:{port}",
        io_running=str(column("Replica_IO_Running", "Slave_IO_Running") or "No"),
        sql_running=str(column("Replica_SQL_Running", "Slave_SQL_Running") or "No"),
        lag_seconds=None if lag is None else float(lag),
        last_error=redact(str(column("Last_IO_Error") or column("Last_SQL_Error") or ""))[:300],
    )


def _code(exc: BaseException) -> int | None:
    args = getattr(exc, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def describe_error(exc: BaseException, entry: MysqlCheck, where: str, connecting: bool = False) -> str:
    """One line an operator understands, with the fix; never the password."""
    code = _code(exc)
    args: tuple[Any, ...] = tuple(getattr(exc, "args", ()))
    text = scrub(str(args[1]) if len(args) > 1 else str(exc), entry).strip()
    reason = text.splitlines()[0][:300] if text else type(exc).__name__
    if connecting:
        if "timed out" in reason:
            return f"connect to {where} timed out after {entry.connect_timeout:g}s"
        if code == _REFUSED_OR_UNREACHABLE and "refused" in reason.lower():
            return (
                f"connection refused by {where} (target unreachable: is MySQL/MariaDB running and listening?)"
            )
        if code in (_REFUSED_OR_UNREACHABLE, _UNKNOWN_HOST):
            return f"cannot reach {where}: {reason} (target unreachable: check the host and port of the URL)"
        if code in _ACCESS_DENIED:
            return f"authentication failed on {where}: {reason}; check the user and password of the URL"
        if code == _UNKNOWN_DATABASE:
            return f"{reason} on {where}; check the database name at the end of the URL"
        if code in _LOST:
            return f"connect to {where} failed: {reason} (is it a MySQL server, and did it answer in time?)"
        return f"connection to {where} failed: {reason}"
    if code in _STATEMENT_TIMEOUT:
        return (
            f"query on {where} cancelled after statement_timeout {entry.statement_timeout:g}s; make it "
            "cheaper or raise `statement_timeout:`"
        )
    if code == _READ_ONLY:
        return f"query on {where} tried to write ({reason}); checks run read-only: use a select"
    if code in _LOST or code is None:
        return f"lost the connection to {where}: {reason}"
    return f"query failed on {where}: {reason} (error {code})"


def scrub(text: str, entry: MysqlCheck) -> str:
    """Remove the entry's password from driver messages."""
    password = endpoint(entry.url, entry.password).password
    for secret in sorted({s for s in (password, entry.password or "") if s}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return redact(text)
