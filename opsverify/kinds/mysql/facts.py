"""What the mysql probe observed: the session, the revision, the process list, the replica status, each named
query. `where` is host:port/database, never the password."""

from __future__ import annotations

from dataclasses import dataclass, field

from opsverify.kinds.base import Phase
from opsverify.kinds.database_facts import ActiveQuery, QueryResult, ServerFacts, ServerTerms

__all__ = ["ActiveQuery", "MysqlFacts", "QueryResult", "ReplicaStatus"]

TERMS = ServerTerms(
    kind="mysql",
    sessions="processlist",
    sessions_read="the process list",
    longest="longest running query",
    no_longest="none running",
    session_id="id",
    seconds=".0f",
)


@dataclass
class ReplicaStatus:
    """`SHOW REPLICA STATUS` of a replica (None in the facts when the server is not one)."""

    source: str  # host:port of the primary
    io_running: str  # Yes / No / Connecting
    sql_running: str
    lag_seconds: float | None  # Seconds_Behind_Master/Source; NULL while a thread is stopped
    last_error: str = ""


@dataclass
class MysqlFacts(ServerFacts):
    """One mysql entry's observations."""

    terms = TERMS

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

    @property
    def product(self) -> str:
        return self.flavour

    def own_phases(self) -> list[Phase]:
        """The replica status, when the probe read it."""
        if self.replica_error is not None:
            return [Phase("replica status", False, self.replica_error)]
        if self.replica_checked:
            return [Phase("replica status", True, self.replica_line())]
        return []

    def own_lines(self) -> list[str]:
        return (
            [f"replication: {self.replica_line()}"]
            if self.replica_checked and self.replica_error is None
            else []
        )

    def replica_line(self) -> str:
        replica = self.replica
        if replica is None:
            return "not a replica"
        lag = "unknown" if replica.lag_seconds is None else f"{replica.lag_seconds:g}s"
        return f"replica of {replica.source}, io {replica.io_running}, sql {replica.sql_running}, lag {lag}"
