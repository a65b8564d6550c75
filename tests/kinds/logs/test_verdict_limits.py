"""`max` and `min` matching lines at their edges: both include the limit (a count equal to it passes)."""

from __future__ import annotations

import pytest

from opsverify.kinds.logs.verdict import judge
from tests.kinds.logs.test_verdict import entry, facts


@pytest.mark.parametrize(("count", "fails"), [(4, False), (5, False), (6, True)])
def test_max_is_at_most_the_limit(count: int, fails: bool) -> None:
    found = [(p.subject, p.expected) for p in judge(entry(max=5), facts(count=count)).problems]
    assert found == ([("matching lines", "at most 5")] if fails else [])


@pytest.mark.parametrize(("count", "fails"), [(2, True), (3, False), (4, False)])
def test_min_is_at_least_the_limit(count: int, fails: bool) -> None:
    found = [(p.subject, p.expected) for p in judge(entry(min=3), facts(count=count)).problems]
    assert found == ([("matching lines", "at least 3")] if fails else [])


def test_the_default_max_is_zero_lines() -> None:
    """No `max` nor `min`: not one matching line is allowed."""
    assert judge(entry(), facts(count=0)).passed
    assert [p.expected for p in judge(entry(), facts(count=1)).problems] == ["at most 0"]
