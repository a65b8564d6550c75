"""What the probes of the SQL database kinds (postgres, mysql) observe alike: one query's value, the longest
running query, and the phases and evidence lines of a session. A kind's facts dataclass builds on
`ServerFacts`, a plain class that adds no fields: each kind keeps its own fields, in its own order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from opsverify.kinds.base import Phase


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


@dataclass(frozen=True)
class ServerTerms:
    """How a database kind words its phases, evidence and problems (postgres's words as examples)."""

    kind: str  # `postgres`: the first word of the evidence
    sessions: str  # `pg_stat_activity`: where the sessions are listed, in the phase `connections (...)`
    sessions_read: str  # `pg_stat_activity`: in a problem, `could not read ...`
    longest: str  # `longest active query`: the longest query's phase, evidence line and problem subject
    no_longest: str  # `none active`: that phase when no query runs
    session_id: str  # `pid`: what the number of a session is called
    seconds: str  # `.1f`: how the longest query's seconds are shown in phases and evidence

    def longest_shown(self, query: ActiveQuery) -> str:
        """`125.0s (pid 4242)`."""
        return f"{query.seconds:{self.seconds}}s ({self.session_id} {query.pid})"


class ServerFacts:
    """The observations of a SQL database session every database kind makes, and their phases and evidence
    lines; a kind adds what it alone looks at in `own_phases` and `own_lines`."""

    terms: ClassVar[ServerTerms]
    where: str
    connected: bool
    read_only: bool
    server_version: str
    latency_ms: float
    revision: QueryResult | None
    connections: int | None
    max_connections: int | None
    connections_pct: float | None
    longest_query: ActiveQuery | None
    activity_error: str | None
    queries: dict[str, QueryResult]
    error: str | None

    @property
    def product(self) -> str:
        """The server's product name, as the session's phase and evidence show it (`PostgreSQL`)."""
        raise NotImplementedError

    def own_phases(self) -> list[Phase]:
        """The phases of what only this kind looks at, after the session's and before the named queries."""
        return []

    def own_lines(self) -> list[str]:
        """The evidence lines of what only this kind looks at, after the session's."""
        return []

    def phases(self) -> list[Phase]:
        """Connect, select 1, the revision query, connections and the longest query, the kind's own phases,
        each named query, a lost session."""
        if not self.connected:
            return [Phase(f"connect to {self.where}", False, self.error or "not connected")]
        session = f"{self.product} {self.server_version}" + (", read-only session" if self.read_only else "")
        phases = [
            Phase(f"connect to {self.where}", True, session),
            Phase("select 1", True, "ok", self.latency_ms / 1000),
        ]
        if self.revision is not None:
            phases.append(self.revision.phase("revision query"))
        terms = self.terms
        if self.activity_error is not None:
            phases.append(Phase(f"connections ({terms.sessions})", False, self.activity_error))
        elif self.connections_pct is not None:
            used = f"{self.connections}/{self.max_connections} ({self.connections_pct:.1f}%)"
            phases.append(Phase(f"connections ({terms.sessions})", True, used))
            longest = self.longest_query
            found = terms.longest_shown(longest) if longest is not None else terms.no_longest
            phases.append(Phase(terms.longest, True, found))
        phases += self.own_phases()
        phases += [result.phase(f"query {name}") for name, result in self.queries.items()]
        if self.error is not None:
            phases.append(Phase("session", False, self.error))
        return phases

    def summary(self, query: str | None = None) -> str:
        """Evidence lines for a failure message: the session and what the entry itself checks, or, with
        `query`, the session and that named query."""
        terms = self.terms
        if not self.connected:
            return f"{terms.kind} {self.where}: not connected"
        lines = [
            f"{terms.kind} {self.where}: {self.product} {self.server_version}, "
            f"select 1 in {self.latency_ms:.0f} ms"
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
            lines.append(f"{terms.longest}: {terms.longest_shown(self.longest_query)}")
        return "\n".join(lines + self.own_lines())
