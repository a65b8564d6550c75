"""What the entry models of the SQL database kinds (postgres, mysql) share: the keys the shared verdict reads,
and the thresholds of the entry's own check as `opsverify validate` lists them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from opsverify.comparison import QueryExpectation
from opsverify.units import bound


class ServerEntry(Protocol):
    """The keys of a SQL database entry every database kind has."""

    @property
    def queries(self) -> Mapping[str, QueryExpectation]: ...
    @property
    def expect_revision(self) -> QueryExpectation | None: ...
    @property
    def max_connections_pct(self) -> float | None: ...
    @property
    def max_query_seconds(self) -> float | None: ...


def server_thresholds(entry: ServerEntry) -> list[str]:
    """The revision, connections in use and the longest query, as the entry's own check enforces them (the
    kind adds what only it checks; each named query is a check of its own)."""
    parts = [] if entry.expect_revision is None else [f"revision {entry.expect_revision.describe()}"]
    if entry.max_connections_pct is not None:
        parts.append(f"connections {bound('max', entry.max_connections_pct, '%')}")
    if entry.max_query_seconds is not None:
        parts.append(f"longest query {bound('max', entry.max_query_seconds, 's')}")
    return parts
