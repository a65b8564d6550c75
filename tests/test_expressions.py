"""expect.conditions: the `$.a OP b` comparisons and JMESPath expressions with every/any/matches."""

from __future__ import annotations

import re
from typing import Any

import pytest

from opsverify.expressions import compile_condition

CODEBOOK_HEALTHY = {"status": "ok", "checks": {"db": "healthy", "redis": "healthy"}, "version": "1.4.2"}
CODEBOOK_DEGRADED = {"status": "ok", "checks": {"db": "healthy", "redis": "down"}, "version": "2.0"}


@pytest.mark.parametrize(
    ("condition", "document", "holds"),
    [
        ("$.a == $.b", {"a": 1, "b": 1}, True),
        ("$.a == $.b", {"a": 1, "b": 2}, False),
        ("$.n < 5", {"n": 4}, True),
        ("every(values(checks), &@ == 'healthy')", CODEBOOK_HEALTHY, True),
        ("every(values(checks), &@ == 'healthy')", CODEBOOK_DEGRADED, False),
        ("every(values(checks), &@ == 'healthy')", {"checks": {}}, False),  # nothing observed
        ("every(values(checks), &@ == 'healthy')", {"status": "ok"}, False),  # no checks at all
        ("any(values(checks), &@ == 'down')", CODEBOOK_DEGRADED, True),
        ("any(values(checks), &@ == 'down')", CODEBOOK_HEALTHY, False),
        ("length(checks) >= `2`", CODEBOOK_HEALTHY, True),
        ("length(items) > `0`", {"items": []}, False),
        (r"matches(version, '^1\.')", CODEBOOK_HEALTHY, True),
        (r"matches(version, '^1\.')", CODEBOOK_DEGRADED, False),
        ("every(workers[*].state, &@ == 'up')", {"workers": [{"state": "up"}, {"state": "up"}]}, True),
        ("status == 'ok' && checks.db == 'healthy'", CODEBOOK_DEGRADED, True),
        ("checks.db", CODEBOOK_HEALTHY, False),  # a string is not `true`
    ],
)
def test_conditions(condition: str, document: Any, holds: bool) -> None:
    assert compile_condition(condition).evaluate(document)[0] is holds


def test_a_false_jmespath_condition_shows_what_it_evaluated_to() -> None:
    assert compile_condition("length(items)").evaluate({"items": [1, 2]}) == (False, "evaluates to 2")
    holds, why = compile_condition("length(items) > `1`").evaluate({"items": 3})
    assert not holds
    assert why.startswith("cannot evaluate: ")


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("median(values(latency)) < `5`", "unknown function median(); known: "),
        ("checks.[", "neither `$.path OP value` nor a valid JMESPath expression"),
        ("$.ok === true", "expected exactly one of == != < <= > >="),
    ],
)
def test_bad_conditions_are_named(condition: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(condition))) as caught:
        compile_condition(condition)
    assert message in str(caught.value)


def test_a_function_name_inside_a_literal_is_not_a_call() -> None:
    assert compile_condition("matches(name, 'median(x)')").evaluate({"name": "median(x)"})[0] is False
    assert compile_condition(r"matches(name, 'median\(x\)')").evaluate({"name": "median(x)"})[0] is True


def test_a_bad_regex_fails_the_condition_without_raising() -> None:
    holds, why = compile_condition("matches(name, '(')").evaluate({"name": "x"})
    assert not holds
    assert "invalid regular expression" in why
