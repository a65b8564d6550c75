"""Config model of `postgres:` entries (live, read-only database checks)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from pydantic import Field, field_validator, model_validator

from opsverify.config.secrets import SECRETS
from opsverify.config.types import CheckEntry, Duration, StrictModel, format_duration, limits

if TYPE_CHECKING:
    from opsverify.probes.postgres import PostgresFacts, QueryResult


class QueryExpectation(StrictModel):
    """A query whose first column of the first row is compared: `equals`, `min`, `max`."""

    sql: str
    equals: Any = None
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _has_expectation(self) -> QueryExpectation:
        if self.equals is None and self.min is None and self.max is None:
            raise ValueError("give at least one of `equals`, `min` or `max` for the query result")
        return self

    def mismatches(self, label: str, result: QueryResult) -> list[str]:
        """Problems with one query's result, each starting with `label`."""
        if result.error:
            return [f"{label}: {result.error}"]
        if not result.found:
            return [f"{label}: the query returned no rows, expected {self._wanted()} ({self.sql})"]
        value, problems = result.value, []
        if self.equals is not None and not values_equal(value, self.equals):
            problems.append(f"{label}: expected {_show(self.equals)}, got {_show(value)} ({self.sql})")
        if self.min is not None or self.max is not None:
            number = as_number(value)
            if number is None:
                problems.append(f"{label}: expected a number, got {_show(value)} ({self.sql})")
            elif self.min is not None and number < self.min:
                problems.append(f"{label}: expected >= {self.min:g}, got {number:g} ({self.sql})")
            elif self.max is not None and number > self.max:
                problems.append(f"{label}: expected <= {self.max:g}, got {number:g} ({self.sql})")
        return problems

    def describe(self) -> str:
        """The expectation as `validate` shows it: `= "0086"`, `≤ 100`, `between 1 and 5`."""
        parts = [f"= {_show(self.equals)}"] if self.equals is not None else []
        bounds = limits(at_most=self.max, at_least=self.min)
        return " and ".join([*parts, bounds] if bounds else parts)

    def _wanted(self) -> str:
        parts = [f"= {_show(self.equals)}"] if self.equals is not None else []
        parts += [f">= {self.min:g}"] if self.min is not None else []
        parts += [f"<= {self.max:g}"] if self.max is not None else []
        return " and ".join(parts)


def as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def values_equal(actual: Any, wanted: Any) -> bool:
    """Equality as an operator reads it: 86 == 86.0, 86 == "86", but "0086" != 86 and true != 1."""
    if isinstance(actual, bool) or isinstance(wanted, bool):
        return actual is wanted or str(actual).lower() == str(wanted).lower()
    if isinstance(actual, int | float | Decimal) and isinstance(wanted, int | float | Decimal):
        return float(actual) == float(wanted)
    return bool(actual == wanted) or str(actual) == str(wanted)


def _show(value: Any) -> str:
    try:
        return json.dumps(value)
    except TypeError:
        return repr(value)


class PostgresCheck(CheckEntry):
    url: str = Field(description="libpq URL; opened read-only with a statement timeout")
    password: str | None = Field(default=None, description="for a URL without one; usually `password_file:`")
    connect_timeout: Duration = 10.0
    statement_timeout: Duration = 30.0
    expect_revision: QueryExpectation | None = None
    max_connections_pct: float | None = Field(default=None, gt=0, le=100)
    max_query_seconds: float | None = Field(default=None, gt=0)
    queries: dict[str, QueryExpectation] = Field(default_factory=dict)

    @field_validator("url")
    @classmethod
    def _postgres_url(cls, value: str) -> str:
        if "://" in value:
            scheme = value.split("://", 1)[0].split("+", 1)[0]
            if scheme not in ("postgresql", "postgres"):
                raise ValueError(f"expected a postgresql:// URL, got a {scheme}:// URL")
            password = urlsplit(value).password
            if password:
                # A password written literally into the URL is a secret too (not only ${VAR} values).
                SECRETS.add_all([password, unquote(password)])
        return value

    @model_validator(mode="after")
    def _one_password(self) -> PostgresCheck:
        if self.password is not None and "://" in self.url and urlsplit(self.url).password:
            raise ValueError("the URL has a password and `password` is set too; keep one of them")
        return self

    def thresholds(self) -> list[str]:
        parts = [] if self.expect_revision is None else [f"revision {self.expect_revision.describe()}"]
        if self.max_connections_pct is not None:
            parts.append(f"connections ≤ {self.max_connections_pct:g}%")
        if self.max_query_seconds is not None:
            parts.append(f"longest query ≤ {self.max_query_seconds:g}s")
        parts += [f"query {name} {query.describe()}" for name, query in self.queries.items()]
        return parts

    def mismatches(self, facts: PostgresFacts) -> list[str]:
        """What about the database contradicts this entry (empty when the check passes)."""
        if facts.error:
            return [facts.error]
        problems = []
        if not facts.read_only:
            problems.append(
                f"session on {facts.where} is not read-only; opsverify refuses to run checks that could write"
            )
        if self.expect_revision is not None and facts.revision is not None:
            problems += self.expect_revision.mismatches("revision", facts.revision)
        if self.max_connections_pct is not None:
            problems += self._connection_problems(facts, self.max_connections_pct)
        if self.max_query_seconds is not None:
            problems += self._long_query_problems(facts, self.max_query_seconds)
        for name, expectation in self.queries.items():
            result = facts.queries.get(name)
            if result is not None:
                problems += expectation.mismatches(f"query {name}", result)
        return problems

    @staticmethod
    def _connection_problems(facts: PostgresFacts, limit: float) -> list[str]:
        if facts.activity_error or facts.connections_pct is None:
            return [f"connections: could not read pg_stat_activity: {facts.activity_error}"]
        if facts.connections_pct <= limit:
            return []
        return [
            f"connections: {facts.connections} of max_connections {facts.max_connections} in use "
            f"({facts.connections_pct:.1f}%), expected <= {limit:g}%; look for idle or leaked sessions in "
            "pg_stat_activity, size the application's pool, or raise max_connections"
        ]

    @staticmethod
    def _long_query_problems(facts: PostgresFacts, limit: float) -> list[str]:
        if facts.activity_error:
            return [f"longest query: could not read pg_stat_activity: {facts.activity_error}"]
        longest = facts.longest_query
        if longest is None or longest.seconds <= limit:
            return []
        return [
            f"longest active query has run {format_duration(longest.seconds)}, expected <= {limit:g}s: "
            f"pid {longest.pid}, user {longest.user}, {longest.query!r}; inspect it in pg_stat_activity "
            f"and cancel it with `select pg_cancel_backend({longest.pid})` if it is stuck"
        ]
