"""What the verdicts of the SQL database kinds (postgres, mysql) share: the entry's own check up to what only
the kind looks at (the session, the revision, connections in use, the longest query), a named query's own
check, and the problem of a connection that could not be opened or was lost."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from opsverify.comparison import QueryExpectation, compare
from opsverify.kinds.database_facts import ServerFacts
from opsverify.kinds.database_model import ServerEntry
from opsverify.problem import Judgement, Problem
from opsverify.units import bound, format_duration


class QueryOutcome(Protocol):
    """The first column of the first row of one query, as a probe recorded it."""

    @property
    def value(self) -> Any: ...
    @property
    def found(self) -> bool: ...
    @property
    def error(self) -> str | None: ...


class DatabaseFacts(Protocol):
    """What a SQL database probe observed, as far as the shared verdict parts read it."""

    @property
    def error(self) -> str | None: ...
    @property
    def connected(self) -> bool: ...
    @property
    def where(self) -> str: ...
    @property
    def queries(self) -> Mapping[str, QueryOutcome]: ...
    def summary(self, query: str | None = None) -> str: ...


def judge_query(expectations: Mapping[str, QueryExpectation], facts: DatabaseFacts, name: str) -> Judgement:
    """The check of one named query (`postgres:main/pending-jobs`): its value against its expectation."""
    subject = f"query {name}"
    expectation = expectations.get(name)
    if expectation is None:
        known = ", ".join(expectations) or "none"
        return Judgement([Problem(subject, f"the entry has no such query (its queries: {known})")])
    result = facts.queries.get(name)
    if result is None:  # the connection failed, or was lost before this query ran
        if facts.error:
            return Judgement([session_problem(facts)])
        return Judgement([Problem(subject, f"the probe did not run it on {facts.where}")])
    problems = compare(subject, expectation, result.value, found=result.found, error=result.error)
    return Judgement(problems, facts.summary(query=name) if result.error is None else "")


def session_problem(facts: DatabaseFacts) -> Problem:
    """The connection could not be opened (`connection`), or failed once open (`session`)."""
    if not facts.connected:
        return Problem("connection", facts.error or f"not connected to {facts.where}")
    return Problem("session", facts.error or f"lost the connection to {facts.where}")


@dataclass(frozen=True)
class ServerFixes:
    """What a kind tells its users to do about too many connections and about a stuck query."""

    connections: str
    stuck_query: str  # `{pid}` stands for the query's session


def judge_server(
    entry: ServerEntry,
    facts: ServerFacts,
    rule: str | None,
    fixes: ServerFixes,
    own_problems: Callable[[], list[Problem]],
) -> Judgement:
    """Problems of `facts` against `entry`: only the named query `rule`; else the session, the revision,
    connections in use, the longest query, then the kind's `own_problems()`."""
    if rule is not None:
        return judge_query(entry.queries, facts, rule)
    if facts.error:
        return Judgement([session_problem(facts)])
    problems = []
    if not facts.read_only:
        problems.append(
            Problem(
                "session",
                f"the session on {facts.where} is not read-only",
                fix="opsverify refuses to run checks that could write",
            )
        )
    if entry.expect_revision is not None and facts.revision is not None:
        revision = facts.revision
        problems += compare(
            "revision", entry.expect_revision, revision.value, found=revision.found, error=revision.error
        )
    if entry.max_connections_pct is not None:
        problems += _connection_problems(facts, entry.max_connections_pct, fixes)
    if entry.max_query_seconds is not None:
        problems += _long_query_problems(facts, entry.max_query_seconds, fixes)
    problems += own_problems()
    return Judgement(problems, facts.summary())


def _connection_problems(facts: ServerFacts, limit: float, fixes: ServerFixes) -> list[Problem]:
    if facts.activity_error or facts.connections_pct is None:
        return [Problem("connections", f"could not read {facts.terms.sessions_read}: {facts.activity_error}")]
    if facts.connections_pct <= limit:
        return []
    found = f"{facts.connections} of max_connections {facts.max_connections} in use ({facts.connections_pct:.1f}%)"
    return [Problem("connections", found, bound("max", limit, "%"), fix=fixes.connections)]


def _long_query_problems(facts: ServerFacts, limit: float, fixes: ServerFixes) -> list[Problem]:
    terms = facts.terms
    if facts.activity_error:
        return [Problem(terms.longest, f"could not read {terms.sessions_read}: {facts.activity_error}")]
    longest = facts.longest_query
    if longest is None or longest.seconds <= limit:
        return []
    return [
        Problem(
            terms.longest,
            f"{format_duration(longest.seconds)}: {terms.session_id} {longest.pid}, user {longest.user}, "
            f"{longest.query!r}",
            bound("max", limit, "s"),
            fix=fixes.stuck_query.format(pid=longest.pid),
        )
    ]
