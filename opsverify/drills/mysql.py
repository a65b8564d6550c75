"""MySQL / MariaDB drills: drill databases, the streamed restore through the `mariadb` (or `mysql`) client,
and the verification of the restored database (the sandboxes are in `mysql_sandbox`).

Safety: only databases named `opsverify_drill_<UTC time>_<random>` are created and dropped; the dump's own
`CREATE DATABASE` and `USE` lines are taken out of the stream, so a dump made with `--databases` restores into
the drill database and never into the database it was taken from; a sandbox that is a `mysql` entry of the
target (same server and database) is refused (`mysql_sandbox.refuse_production`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pymysql

from opsverify.backups.mysql_dump import MysqlDumpScanner
from opsverify.backups.stream import Sink, StreamResult, read_once
from opsverify.drills.mysql_sandbox import MysqlSandbox, admin_connect, error_reason, mysql_tool
from opsverify.drills.restore import Progress, RestoreResult, RestoreStopped, feed_client
from opsverify.drills.sandbox import (
    CONNECT_TIMEOUT,
    DRILL_PREFIX,
    REAP_AFTER_SECONDS,
    SandboxError,
    SandboxRefused,
    drill_database_age,
    is_drill_database,
    new_drill_database_name,
)
from opsverify.drills.verification import Verification
from opsverify.drills.verify import _run_queries
from opsverify.mysql_endpoint import endpoint

if TYPE_CHECKING:
    from opsverify.drills.expect import RestoreExpect


# The dump's own database statements: CREATE DATABASE (with --databases) and USE; dropped from the stream.
_DATABASE_LINE = re.compile(rb"(?m)^(?:CREATE DATABASE |USE `)[^\n]*$")


class MysqlDrillDatabase:
    """One `opsverify_drill_*` database on a MySQL sandbox: created fresh, dropped at teardown."""

    def __init__(self, sandbox: MysqlSandbox, production_databases: Iterable[str] = ()) -> None:
        self.sandbox = sandbox
        self.name = new_drill_database_name()
        self.created = False
        self.reaped: list[str] = []
        self._production = set(production_databases)

    @property
    def url(self) -> str:
        parts = self.sandbox.admin_url.split("?", 1)
        base = parts[0].rsplit("/", 1)[0] + f"/{self.name}"
        return base + (f"?{parts[1]}" if len(parts) > 1 else "")

    def create(self) -> None:
        try:
            with admin_connect(self.sandbox.endpoint) as connection, connection.cursor() as cursor:
                self.reaped = reap(cursor)
                cursor.execute(f"CREATE DATABASE `{self.name}` CHARACTER SET utf8mb4")
                self.created = True
        except pymysql.MySQLError as exc:
            raise SandboxError(
                f"cannot create database {self.name} on {self.sandbox.describe()}: {error_reason(exc)}"
            ) from None

    def drop(self) -> str | None:
        """Drop the database; returns a problem description instead of raising (teardown must go on)."""
        if not self.created:
            return None
        try:
            with admin_connect(self.sandbox.endpoint) as connection, connection.cursor() as cursor:
                drop_drill_database(cursor, self.name)
            self.created = False
        except pymysql.MySQLError as exc:
            return f"could not drop {self.name}: {error_reason(exc)}"
        return None


def drop_drill_database(cursor: Any, name: str) -> None:
    """DROP DATABASE for drill databases only (the one place a MySQL drill drops anything)."""
    if not is_drill_database(name):
        raise SandboxRefused(
            f"refusing to drop {name!r}: drills only drop databases named {DRILL_PREFIX}<time>_<id>"
        )
    cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")


def reap(cursor: Any, older_than: float = REAP_AFTER_SECONDS) -> list[str]:
    """Drop leftover drill databases older than `older_than` seconds (a drill killed before its teardown)."""
    cursor.execute("SHOW DATABASES LIKE 'opsverify\\_drill\\_%'")
    reaped = []
    for (name,) in cursor.fetchall():
        age = drill_database_age(str(name))
        if age is not None and age > older_than:
            drop_drill_database(cursor, str(name))
            reaped.append(str(name))
    return reaped


def many_databases(names: Sequence[str]) -> str:
    """Why a dump of several databases is not drilled, and the fix."""
    return (
        f"the dump holds {len(names)} databases ({', '.join(names[:5])}); a drill restores one database: "
        "dump each database to its own file (mysqldump DB or --databases DB)"
    )


class OneDatabase:
    """A sink after the dump's scanner: stops a streamed restore at the first `USE` of a second database
    (the dump's databases are otherwise known only once it was read whole)."""

    def __init__(self, scanner: MysqlDumpScanner) -> None:
        self._scanner = scanner

    def write(self, data: bytes) -> None:
        names = self._scanner.scan.databases
        if len(names) > 1:
            raise RestoreStopped(many_databases(names))


class DatabaseLineFilter:
    """A sink in front of the client: passes the dump through, minus its CREATE DATABASE and USE lines.

    Whole lines only go through the filter; the partial last line of a chunk waits for the next one
    (mysqldump's lines are at most net_buffer_length, 1 MiB by default, so memory stays bounded)."""

    def __init__(self, sink: Any) -> None:
        self._sink = sink
        self._pending = b""
        self.removed: list[str] = []

    def write(self, data: bytes) -> None:
        cut = data.rfind(b"\n")
        if cut == -1:
            self._pending += data
            return
        block = self._pending + data[: cut + 1]
        self._pending = data[cut + 1 :]
        self._send(block)

    def _send(self, block: bytes) -> None:
        if b"CREATE DATABASE " in block or b"USE `" in block:
            block = _DATABASE_LINE.sub(self._remove, block)
        if block:
            self._sink.write(block)

    def _remove(self, match: re.Match[bytes]) -> bytes:
        if len(self.removed) < 10:
            self.removed.append(match.group(0).decode("utf-8", "replace")[:120])
        return b"-- (opsverify drill: the dump's own database statement removed)"

    def close(self) -> None:
        if self._pending:
            self._send(self._pending)
            self._pending = b""


def restore_mysql(
    path: Path,
    *,
    gzip: bool,
    database_url: str,
    client_bin: str | None,
    timeout: float,
    progress: Progress | None = None,
    inspectors: Sequence[Sink] = (),
    hash_file: bool = False,
    before_end: Callable[[StreamResult], str | None] | None = None,
) -> RestoreResult:
    """Stream a mysqldump (inflating a .gz on the fly) into the `mariadb` client, which stops at the first
    error; the password travels in MYSQL_PWD (never on the command line).

    One pass (a dump streamed from a bucket): `inspectors` see the same inflated stream first (one may stop
    the restore with `RestoreStopped`), `hash_file` hashes the raw bytes in the same read, and
    `before_end(stream)` judges the whole read before the client sees the end of its input: a reason (or a
    gzip stream found broken midway) kills the client there, and the restore fails with it.
    """
    client = mysql_tool(("mariadb", "mysql"), client_bin)
    target = endpoint(database_url)
    where = (
        [f"--socket={target.unix_socket}"]
        if target.unix_socket
        else [
            f"--host={target.host}",
            f"--port={target.port}",
            "--protocol=TCP",
        ]  # `localhost` is TCP here too
    )
    command = [
        client,
        "--no-defaults",
        *where,
        f"--user={target.user}",
        f"--connect-timeout={CONNECT_TIMEOUT}",
        "--batch",
        "--binary-mode",
        f"--database={target.database}",
    ]
    env = {**os.environ, "MYSQL_PWD": target.password}
    result = RestoreResult(Path(client).name)
    with feed_client(command, env, result, timeout, read_on=before_end is not None) as sink:
        filtered = DatabaseLineFilter(sink)
        stream = read_once(
            path, gzip=gzip, sinks=[*inspectors, filtered], hash_file=hash_file, progress=progress
        )
        filtered.close()
        reason = stream.gzip_error
        if before_end is not None:
            reason = before_end(stream) or reason
        if reason:
            result.error = f"restore stopped: {reason}"
            if before_end is not None:
                sink.kill()  # one pass: the client must not finish on a read found bad
    log = result.log.text()
    if result.error and ("Lost connection" in log or "server has gone away" in log):
        result.error = f"{result.error} — the sandbox server went away during the restore (crashed, killed, or out of memory/disk)"
    return result


def verify_mysql(url: str, expect: RestoreExpect, statement_timeout: float) -> Verification:
    """Run the expect block against the restored database: a read-only session with a statement limit."""
    result = Verification()
    target = endpoint(url)
    try:
        connection = target.connect(CONNECT_TIMEOUT, read_timeout=statement_timeout + 10)
        with connection.cursor() as cursor:
            cursor.execute("select version()")
            version = str(cursor.fetchone()[0])
            if "mariadb" in version.lower():
                cursor.execute("set session max_statement_time = %s", (statement_timeout,))
            else:
                cursor.execute("set session max_execution_time = %s", (int(statement_timeout * 1000),))
            cursor.execute("set session transaction read only")
    except pymysql.MySQLError as exc:
        result.error = f"cannot connect to the restored database: {error_reason(exc)}"
        return result
    with connection:
        _tables(connection, target.database, expect, result)
        cursor = connection.cursor()

        def execute(sql: str) -> Any:
            cursor.execute(sql)
            return cursor

        _run_queries(execute, expect, result, pymysql.MySQLError, error_reason)
    return result


def _tables(connection: Any, database: str, expect: RestoreExpect, result: Verification) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "select table_name from information_schema.tables where table_schema = %s", (database,)
        )
        names = {str(row[0]).lower(): str(row[0]) for row in cursor.fetchall()}
        for table in expect.counted_tables():
            bare = table.split(".")[-1].strip('"`')
            actual = names.get(bare.lower())
            result.tables[table] = actual is not None
            if actual is not None:
                cursor.execute(f"select count(*) from `{actual.replace('`', '``')}`")
                result.row_counts[table] = int(cursor.fetchone()[0])
