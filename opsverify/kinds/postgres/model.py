"""Config model of `postgres:` entries (live, read-only database checks; each named query is a check of its own)."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from pydantic import Field, field_validator, model_validator

from opsverify.comparison import QueryExpectation
from opsverify.config.types import CheckEntry, Duration
from opsverify.kinds.database_model import server_thresholds
from opsverify.redaction import SECRETS

__all__ = ["PostgresCheck", "QueryExpectation"]


class PostgresCheck(CheckEntry):
    url: str = Field(description="libpq URL; opened read-only with a statement timeout")
    password: str | None = Field(default=None, description="for a URL without one; usually `password_file:`")
    connect_timeout: Duration = 10.0
    statement_timeout: Duration = 30.0
    expect_revision: QueryExpectation | None = None
    max_connections_pct: float | None = Field(default=None, gt=0, le=100)
    max_query_seconds: float | None = Field(default=None, gt=0)
    invalid_indexes: bool = Field(
        default=False,
        description="fail when the database has invalid indexes (a failed CREATE INDEX CONCURRENTLY)",
    )
    queries: dict[str, QueryExpectation] = Field(
        default_factory=dict, description="name -> {sql, equals, min, max}; each is a check of its own"
    )

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
        """What the entry's own check enforces (each named query is a check of its own: query_threshold)."""
        parts = server_thresholds(self)
        if self.invalid_indexes:
            parts.append("no invalid indexes")
        return parts

    def query_threshold(self, name: str) -> str:
        """What the check of one named query enforces: `query pending-jobs <= 100`."""
        return f"query {name} {self.queries[name].describe()}"
