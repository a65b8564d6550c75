"""`lines`, `min_lines` and `max_lines` at their edges: equal passes; one line off fails (non-blank lines)."""

from __future__ import annotations

import pytest

from tests.kinds.command.test_verdict import entry, ran, texts


def output(lines: int) -> str:
    return "".join(f"line {i}\n\n" for i in range(lines))  # blank lines do not count


@pytest.mark.parametrize(("lines", "fails"), [(2, True), (3, False), (4, False)])
def test_min_lines_is_at_least_the_limit(lines: int, fails: bool) -> None:
    found = texts(entry(expect={"min_lines": 3}), ran(stdout=output(lines)))
    assert found == ([f"stdout lines: expected at least 3, got {lines}"] if fails else [])


@pytest.mark.parametrize(("lines", "fails"), [(2, False), (3, False), (4, True)])
def test_max_lines_is_at_most_the_limit(lines: int, fails: bool) -> None:
    found = texts(entry(expect={"max_lines": 3}), ran(stdout=output(lines)))
    assert found == ([f"stdout lines: expected at most 3, got {lines}"] if fails else [])


@pytest.mark.parametrize(("lines", "fails"), [(2, True), (3, False), (4, True)])
def test_lines_is_exactly_the_count(lines: int, fails: bool) -> None:
    found = texts(entry(expect={"lines": 3}), ran(stdout=output(lines)))
    assert found == ([f"stdout lines: expected 3, got {lines}"] if fails else [])
