"""The one comparator of `equals` / `min` / `max` on a query's value: live postgres queries and drill queries.

`QueryExpectation` is the target-file model (`{sql: ..., equals: ..., min: ..., max: ...}`); `compare` says
how a value fails it, as Problems.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from pydantic import model_validator

from opsverify.config.types import StrictModel
from opsverify.problem import Problem
from opsverify.units import bound, limits


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

    def describe(self) -> str:
        """The expectation as people read it: `= "0086"`, `<= 100`, `between 1 and 5`."""
        parts = [f"= {show(self.equals)}"] if self.equals is not None else []
        bounds = limits(at_most=self.max, at_least=self.min)
        return " and ".join([*parts, bounds] if bounds else parts)


def compare(
    subject: str, expectation: QueryExpectation, value: Any, *, found: bool = True, error: str | None = None
) -> list[Problem]:
    """How one query's result fails `expectation` (empty when it holds). `found` is false for no rows."""
    sql = f"({expectation.sql})"
    if error is not None:
        return [Problem(subject, error, fix=f"the query was {expectation.sql}")]
    if not found:
        return [Problem(subject, f"no rows {sql}", expectation.describe())]
    if expectation.equals is not None and not values_equal(value, expectation.equals):
        return [Problem(subject, f"{show(value)} {sql}", show(expectation.equals))]
    if expectation.min is None and expectation.max is None:
        return []
    number = as_number(value)
    if number is None:
        return [Problem(subject, f"{show(value)} {sql}", "a number")]
    if expectation.min is not None and number < expectation.min:
        return [Problem(subject, f"{number:g} {sql}", bound("min", expectation.min))]
    if expectation.max is not None and number > expectation.max:
        return [Problem(subject, f"{number:g} {sql}", bound("max", expectation.max))]
    return []


def as_number(value: Any) -> float | None:
    """A number from an int, float, Decimal or numeric text; None for anything else (and for booleans)."""
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


def show(value: Any) -> str:
    """A value as JSON where it can be (`"0086"`, `86`, `true`), else its repr."""
    try:
        return json.dumps(value)
    except TypeError:
        return repr(value)
