"""The one comparator of `equals` / `min` / `max` on a query's value (postgres queries, drill queries)."""

from __future__ import annotations

from typing import Any

import pytest

from opsverify.comparison import QueryExpectation, compare, values_equal


@pytest.mark.parametrize(
    ("actual", "wanted", "equal"),
    [("0086", "0086", True), (86, "86", True), ("0086", 86, False), (3, 3.0, True), (True, True, True),
     (1, True, False), ("t", "t", True)],
)  # fmt: skip
def test_values_equal(actual: Any, wanted: Any, equal: bool) -> None:
    assert values_equal(actual, wanted) is equal


def test_compare_names_the_expected_and_found_values_with_the_query() -> None:
    bounded = QueryExpectation(sql="select count(*) from jobs", min=1, max=10)
    assert compare("query jobs", bounded, 5) == []
    assert [p.text for p in compare("query jobs", bounded, 11)] == [
        "query jobs: expected <= 10, got 11 (select count(*) from jobs)"
    ]
    assert [p.text for p in compare("query jobs", bounded, None, found=False)] == [
        "query jobs: expected between 1 and 10, got no rows (select count(*) from jobs)"
    ]
    assert [p.text for p in compare("query jobs", bounded, None, error="query failed")] == [
        "query jobs: query failed; the query was select count(*) from jobs"
    ]
