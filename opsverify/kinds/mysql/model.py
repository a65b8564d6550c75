"""Config model of `mysql:` entries (MySQL 8 / MariaDB 10.6+, live and read-only; each named query is a check
of its own)."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from pydantic import Field, field_validator, model_validator

from opsverify.comparison import QueryExpectation
from opsverify.config.types import CheckEntry, Duration
from opsverify.kinds.database_model import server_thresholds
from opsverify.redaction import SECRETS
from opsverify.units import bound

__all__ = ["MysqlCheck", "QueryExpectation"]

MYSQL_SCHEMES = ("mysql", "mariadb")


class MysqlCheck(CheckEntry):
    url: str = Field(
        description="mysql://USER:PASSWORD@HOST:PORT/DATABASE; opened read-only with a statement limit"
    )
    password: str | None = Field(default=None, description="for a URL without one; usually `password_file:`")
    connect_timeout: Duration = 10.0
    statement_timeout: Duration = 30.0
    expect_revision: QueryExpectation | None = None
    max_connections_pct: float | None = Field(default=None, gt=0, le=100)
    max_query_seconds: float | None = Field(default=None, gt=0)
    max_replica_lag: Duration | None = Field(
        default=None, description="when the server is a replica: its lag in seconds, and both threads running"
    )
    queries: dict[str, QueryExpectation] = Field(
        default_factory=dict, description="name -> {sql, equals, min, max}; each is a check of its own"
    )

    @field_validator("url")
    @classmethod
    def _mysql_url(cls, value: str) -> str:
        if "://" not in value:
            raise ValueError("expected a mysql://USER:PASSWORD@HOST:PORT/DATABASE URL")
        scheme = value.split("://", 1)[0].split("+", 1)[0].lower()
        if scheme not in MYSQL_SCHEMES:
            raise ValueError(f"expected a mysql:// (or mariadb://) URL, got a {scheme}:// URL")
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError as exc:
            raise ValueError(f"invalid URL ({exc}); write mysql://USER:PASSWORD@HOST:PORT/DATABASE") from None
        if parts.password:
            # A password written literally into the URL is a secret too (not only ${VAR} values).
            SECRETS.add_all([parts.password, unquote(parts.password)])
        return value

    @model_validator(mode="after")
    def _one_password(self) -> MysqlCheck:
        if self.password is not None and urlsplit(self.url).password:
            raise ValueError("the URL has a password and `password` is set too; keep one of them")
        return self

    def thresholds(self) -> list[str]:
        """What the entry's own check enforces (each named query is a check of its own: query_threshold)."""
        parts = server_thresholds(self)
        if self.max_replica_lag is not None:
            parts.append(f"replica lag {bound('max', self.max_replica_lag, 's')} (when a replica)")
        return parts

    def query_threshold(self, name: str) -> str:
        """What the check of one named query enforces: `query pending-jobs <= 100`."""
        return f"query {name} {self.queries[name].describe()}"
