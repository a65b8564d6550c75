"""What the mysql probe observed: the session, the revision, the process list, the replica status, each named
query. `where` is host:port/database, never the password."""

from __future__ import annotations

from dataclasses import dataclass, field

from opsverify.kinds.base import Phase
from opsverify.kinds.postgres.facts import ActiveQuery, QueryResult

__all__ = ["ActiveQuery", "MysqlFacts", "QueryResult", "ReplicaStatus"]


@dataclass
class ReplicaStatus:
    """`SHOW REPLICA STATUS` of a replica (None in the facts when the server is not one)."""

    source: str  # host:port of the primary
    io_running: str  # Yes / No / Connecting
    sql_running: str
    lag_seconds: float | None  # Seconds_Behind_Master/Source; NULL while a thread is stopped
    last_error: str = ""


@dataclass
class MysqlFacts:
    """One mysql entry's observations."""

    where: str
    connected: bool = False
    read_only: bool = False
    server_version: str = ""
    flavour: str = "MySQL"  # MySQL or MariaDB
    statement_limit: str = (
        ""  # the session variable that limits statements (max_execution_time / max_statement_time)
    )
    latency_ms: float = 0.0
    revision: QueryResult | None = None
    connections: int | None = None
    max_connections: int | None = None
    connections_pct: float | None = None
    longest_query: ActiveQuery | None = None
    activity_error: str | None = None
    replica_checked: bool = False
    replica: ReplicaStatus | None = None
    replica_error: str | None = None
    queries: dict[str, QueryResult] = field(default_factory=dict)
    error: str | None = None

    def phases(self) -> list[Phase]:
        """Connect, select 1, the revision query, the process list, the replica status, each named query."""
        if not self.connected:
            return [Phase(f"connect to {self.where}", False, self.error or "not connected")]
        session = f"{self.flavour} {self.server_version}" + (", read-only session" if self.read_only else "")
        phases = [
            Phase(f"connect to {self.where}", True, session),
            Phase("select 1", True, "ok", self.latency_ms / 1000),
        ]
        if self.revision is not None:
            phases.append(self.revision.phase("revision query"))
        if self.activity_error is not None:
            phases.append(Phase("connections (processlist)", False, self.activity_error))
        elif self.connections_pct is not None:
            used = f"{self.connections}/{self.max_connections} ({self.connections_pct:.1f}%)"
            phases.append(Phase("connections (processlist)", True, used))
            longest = self.longest_query
            found = f"{longest.seconds:.0f}s (id {longest.pid})" if longest is not None else "none running"
            phases.append(Phase("longest running query", True, found))
        if self.replica_error is not None:
            phases.append(Phase("replica status", False, self.replica_error))
        elif self.replica_checked:
            phases.append(Phase("replica status", True, self.replica_line()))
        phases += [result.phase(f"query {name}") for name, result in self.queries.items()]
        if self.error is not None:
            phases.append(Phase("session", False, self.error))
        return phases

    def replica_line(self) -> str:
        replica = self.replica
        if replica is None:
            return "not a replica"
        lag = "unknown" if replica.lag_seconds is None else f"{replica.lag_seconds:g}s"
        return f"replica of {replica.source}, io {replica.io_running}, sql {replica.sql_running}, lag {lag}"

    def summary(self, query: str | None = None) -> str:
        """Evidence lines: the session and what the entry itself checks, or the session and one named query."""
        if not self.connected:
            return f"mysql {self.where}: not connected"
        lines = [
            f"mysql {self.where}: {self.flavour} {self.server_version}, select 1 in {self.latency_ms:.0f} ms"
        ]
        if query is not None:
            result = self.queries.get(query)
            return "\n".join([*lines, f"query {query}: {result.shown() if result else '(not run)'}"])
        if self.revision is not None:
            lines.append(f"revision: {self.revision.shown()}")
        if self.connections_pct is not None:
            lines.append(
                f"connections: {self.connections}/{self.max_connections} ({self.connections_pct:.1f}%)"
            )
        if self.longest_query is not None:
            longest = self.longest_query
            lines.append(f"longest running query: {longest.seconds:.0f}s (id {longest.pid})")
        if self.replica_checked and self.replica_error is None:
            lines.append(f"replication: {self.replica_line()}")
        return "\n".join(lines)
