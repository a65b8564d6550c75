"""What the verdicts of the SQL database kinds (postgres, mysql) share: a named query's own check, and the
problem of a connection that could not be opened or was lost."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from opsverify.comparison import QueryExpectation, compare
from opsverify.problem import Judgement, Problem


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
