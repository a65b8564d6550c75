"""What the postgres probe observed: the session, the revision, pg_stat_activity, invalid indexes, each named
query. `where` is host:port/database, never the password."""

from __future__ import annotations

from dataclasses import dataclass, field

from opsverify.kinds.base import Phase
from opsverify.kinds.database_facts import ActiveQuery, QueryResult, ServerFacts, ServerTerms

__all__ = ["ActiveQuery", "PostgresFacts", "QueryResult"]

INVALID_INDEXES_SHOWN = 20  # names listed in a message; the rest are counted
TERMS = ServerTerms(
    kind="postgres",
    sessions="pg_stat_activity",
    sessions_read="pg_stat_activity",
    longest="longest active query",
    no_longest="none active",
    session_id="pid",
    seconds=".1f",
)


@dataclass
class PostgresFacts(ServerFacts):
    """One postgres entry's observations."""

    terms = TERMS

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

    @property
    def product(self) -> str:
        return "PostgreSQL"

    def own_phases(self) -> list[Phase]:
        """Invalid indexes, when the entry asks."""
        if self.invalid_indexes_error is not None:
            return [Phase("invalid indexes (pg_index)", False, self.invalid_indexes_error)]
        if self.invalid_indexes is not None:
            return [Phase("invalid indexes (pg_index)", True, self.invalid_index_names() or "none")]
        return []

    def own_lines(self) -> list[str]:
        return [f"invalid indexes: {self.invalid_index_names()}"] if self.invalid_indexes else []

    def invalid_index_names(self) -> str:
        """`a_idx, public.b_idx`, the first INVALID_INDEXES_SHOWN of them and how many there are in all."""
        names = self.invalid_indexes or []
        shown = ", ".join(names[:INVALID_INDEXES_SHOWN])
        return shown if len(names) <= INVALID_INDEXES_SHOWN else f"{shown}, … ({len(names)} in all)"
