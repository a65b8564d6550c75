"""What the probes of the SQL database kinds (postgres, mysql) share: a value as plain JSON-friendly data,
another session's SQL excerpted with its literals masked, and the activity read (sessions in use, the
longest running query) recorded into the facts. No driver is imported here."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from opsverify.kinds.database_facts import ActiveQuery, ServerFacts

_STRING_LITERAL = re.compile(r"'(?:[^']|'')*'")


def query_excerpt(query: str, limit: int = 160) -> str:
    """Another session's SQL, shortened, with string literals masked (they may hold passwords)."""
    text = " ".join(_STRING_LITERAL.sub("'…'", query).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain_value(value: Any) -> Any:
    """A database value as a JSON-friendly Python value (for messages, reports and comparisons)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value)[:32].hex()
    return value


def record_activity(facts: ServerFacts, counts: Sequence[Any] | None, longest: Sequence[Any] | None) -> None:
    """Into `facts`: the sessions in use of max_connections (`counts`: that row), and the longest running
    query (`longest`: its session id, user, seconds and SQL; None when none runs)."""
    if counts is not None:
        facts.connections, facts.max_connections = int(counts[0]), int(counts[1])
        facts.connections_pct = 100.0 * facts.connections / max(1, facts.max_connections)
    if longest is not None:
        facts.longest_query = ActiveQuery(
            int(longest[0]), str(longest[1]), float(longest[2]), query_excerpt(str(longest[3]))
        )
