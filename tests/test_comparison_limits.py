"""The one comparator's bounds at their edges: `min` and `max` both include the limit ("at least" / "at most");
`equals` holds only at the value. Each bound: equal, one unit inside, one unit outside (a row; 0.001 for a
ratio)."""

from __future__ import annotations

from typing import Any

import pytest

from opsverify.comparison import QueryExpectation, compare, show, values_equal

SQL = "select count(*) from jobs"


def holds(value: Any, **bounds: float) -> bool:
    return compare("query jobs", QueryExpectation(sql=SQL, **bounds), value) == []


@pytest.mark.parametrize(("value", "ok"), [(9, True), (10, True), (11, False)])
def test_max_is_at_most(value: int, ok: bool) -> None:
    assert holds(value, max=10) is ok


@pytest.mark.parametrize(("value", "ok"), [(0, False), (1, True), (2, True)])
def test_min_is_at_least(value: int, ok: bool) -> None:
    assert holds(value, min=1) is ok


@pytest.mark.parametrize(("value", "ok"), [(0.009, True), (0.01, True), (0.011, False), ("0.01", True)])
def test_a_fractional_max_includes_its_limit(value: Any, ok: bool) -> None:
    assert holds(value, max=0.01) is ok


@pytest.mark.parametrize(("value", "ok"), [(0, False), (1, True), (3, True), (5, True), (6, False)])
def test_between_includes_both_ends(value: int, ok: bool) -> None:
    assert holds(value, min=1, max=5) is ok


@pytest.mark.parametrize(("value", "ok"), [(-1, False), (0, True), (1, False)])
def test_equals_holds_only_at_the_value(value: int, ok: bool) -> None:
    assert holds(value, equals=0) is ok


def test_the_problem_names_the_bound_that_failed() -> None:
    bounded = QueryExpectation(sql=SQL, min=1, max=5)
    (low,) = compare("query jobs", bounded, 0)
    (high,) = compare("query jobs", bounded, 6)
    assert (low.subject, low.found) == ("query jobs", f"0 ({SQL})")
    assert (high.subject, high.found) == ("query jobs", f"6 ({SQL})")
    # one notation for bounds (opsverify.units.bound); the number is the bound that failed
    assert low.expected == ">= 1"
    assert high.expected == "<= 5"


@pytest.mark.parametrize("value", ["many", None, True, [1]])
def test_a_bound_on_a_value_that_is_not_a_number_fails(value: Any) -> None:
    (problem,) = compare("query jobs", QueryExpectation(sql=SQL, max=10), value)
    assert problem.expected == "a number"


@pytest.mark.parametrize(
    ("actual", "wanted", "equal"),
    [(True, "true", True), ("False", False, True), ("TRUE", True, True), (True, "yes", False),
     ([1, 2], [1, 2.0], True), ({"a": 1}, {"a": 1}, True)],
)  # fmt: skip
def test_booleans_match_their_text_and_lists_their_numbers(actual: Any, wanted: Any, equal: bool) -> None:
    """A driver's `true` is YAML's "true"; a list of numbers equals the same numbers written as floats."""
    assert values_equal(actual, wanted) is equal


def test_a_value_json_cannot_show_is_its_repr() -> None:
    assert show({1, 2}) == "{1, 2}"
    assert show("0086") == '"0086"'


def test_equals_and_a_bound_are_described_together() -> None:
    described = QueryExpectation(sql=SQL, equals=5, max=10).describe()
    assert described == "= 5 and <= 10", described
