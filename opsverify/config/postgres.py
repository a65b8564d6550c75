"""Config model of `postgres:` entries (live, read-only database checks)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from opsverify.config.types import CheckEntry, Duration, StrictModel


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


class PostgresCheck(CheckEntry):
    url: str = Field(description="libpq URL; opened read-only with a statement timeout")
    connect_timeout: Duration = 10.0
    statement_timeout: Duration = 30.0
    expect_revision: QueryExpectation | None = None
    max_connections_pct: float | None = Field(default=None, gt=0, le=100)
    max_query_seconds: float | None = Field(default=None, gt=0)
    queries: dict[str, QueryExpectation] = Field(default_factory=dict)
