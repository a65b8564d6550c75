"""`max_memory_pct` at its edge: "at most" — exactly the limit passes, above it fails."""

from __future__ import annotations

import pytest

from opsverify.kinds.redis.verdict import judge
from tests.kinds.redis.test_verdict import entry, server


@pytest.mark.parametrize(
    ("pct", "fails"), [(89.0, False), (89.9, False), (90.0, False), (90.1, True), (91.0, True)]
)
def test_max_memory_pct_is_at_most_the_limit(pct: float, fails: bool) -> None:
    found = [(p.subject, p.fix) for p in judge(entry(max_memory_pct=90), server(memory_pct=pct)).problems]
    assert found == (
        [("memory", "find big keys (`redis-cli --bigkeys`), set TTLs, or raise maxmemory")] if fails else []
    )


@pytest.mark.parametrize("missing", [{"memory_pct": None}, {"used_memory": None}, {"memory_limit": None}])
def test_any_missing_memory_figure_is_an_unread_info(missing: dict[str, None]) -> None:
    found = judge(entry(max_memory_pct=90), server(info_error="ERR unknown section", **missing)).problems
    assert [(p.subject, p.found) for p in found] == [
        ("memory", "could not read INFO memory from cache.internal:6379/0: ERR unknown section")
    ]
