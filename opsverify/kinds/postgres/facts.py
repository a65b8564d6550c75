"""What the postgres probe observed: the session, the revision, pg_stat_activity, invalid indexes, each named
query. `where` is host:port/database, never the password."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from opsverify.kinds.base import Phase

INVALID_INDEXES_SHOWN = 20  # names listed in a message; the rest are counted


@dataclass
class QueryResult:
    """First column of the first row of one query (`found` is false when it returned no rows)."""

    value: Any = None
    found: bool = False
    error: str | None = None

    def phase(self, name: str) -> Phase:
        """This query as a probe phase: its value, `(no rows)`, or its error."""
        if self.error is not None:
            return Phase(name, False, self.error)
        return Phase(name, True, repr(self.value) if self.found else "(no rows)")

    def shown(self) -> str:
        """The value as evidence shows it: the value, `(no rows)`, or the error."""
        return self.error or (str(self.value) if self.found else "(no rows)")


@dataclass
class ActiveQuery:
    pid: int
    user: str
    seconds: float
    query: str  # excerpt with string literals masked


@dataclass
class PostgresFacts:
    """One postgres entry's observations."""

    where: str
    connected: bool = False
    read_only: bool = False
    server_version: str = ""
    latency_ms: float = 0.0
    revision: QueryResult | None = None
    connections: int | None = None
    max_connections: int | None = None
    connections_pct: float | None = None
    longest_query: ActiveQuery | None = None
    activity_error: str | None = None
    invalid_indexes: list[str] | None = None  # None: not looked at (the entry does not ask)
    invalid_indexes_error: str | None = None
    queries: dict[str, QueryResult] = field(default_factory=dict)
    error: str | None = None

    def phases(self) -> list[Phase]:
        """Connect, select 1, the revision query, the activity queries, invalid indexes, each named query,
        a lost session."""
        if not self.connected:
            return [Phase(f"connect to {self.where}", False, self.error or "not connected")]
        session = f"PostgreSQL {self.server_version}" + (", read-only session" if self.read_only else "")
        phases = [
            Phase(f"connect to {self.where}", True, session),
            Phase("select 1", True, "ok", self.latency_ms / 1000),
        ]
        if self.revision is not None:
            phases.append(self.revision.phase("revision query"))
        if self.activity_error is not None:
            phases.append(Phase("connections (pg_stat_activity)", False, self.activity_error))
        elif self.connections_pct is not None:
            used = f"{self.connections}/{self.max_connections} ({self.connections_pct:.1f}%)"
            phases.append(Phase("connections (pg_stat_activity)", True, used))
            longest = self.longest_query
            found = f"{longest.seconds:.1f}s (pid {longest.pid})" if longest is not None else "none active"
            phases.append(Phase("longest active query", True, found))
        if self.invalid_indexes_error is not None:
            phases.append(Phase("invalid indexes (pg_index)", False, self.invalid_indexes_error))
        elif self.invalid_indexes is not None:
            phases.append(Phase("invalid indexes (pg_index)", True, self.invalid_index_names() or "none"))
        phases += [result.phase(f"query {name}") for name, result in self.queries.items()]
        if self.error is not None:
            phases.append(Phase("session", False, self.error))
        return phases

    def invalid_index_names(self) -> str:
        """`a_idx, public.b_idx`, the first INVALID_INDEXES_SHOWN of them and how many there are in all."""
        names = self.invalid_indexes or []
        shown = ", ".join(names[:INVALID_INDEXES_SHOWN])
        return shown if len(names) <= INVALID_INDEXES_SHOWN else f"{shown}, … ({len(names)} in all)"

    def summary(self, query: str | None = None) -> str:
        """Evidence lines for a failure message: the session and what the entry itself checks, or, with
        `query`, the session and that named query."""
        if not self.connected:
            return f"postgres {self.where}: not connected"
        lines = [
            f"postgres {self.where}: PostgreSQL {self.server_version}, select 1 in {self.latency_ms:.0f} ms"
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
            lines.append(f"longest active query: {longest.seconds:.1f}s (pid {longest.pid})")
        if self.invalid_indexes:
            lines.append(f"invalid indexes: {self.invalid_index_names()}")
        return "\n".join(lines)
