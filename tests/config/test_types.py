"""Durations and sizes as target files write them."""

from __future__ import annotations

import re

import pytest

from opsverify.config.types import parse_duration, parse_size
from opsverify.config.yamlsource import Sexagesimal
from opsverify.units import format_duration, format_size


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("500ms", 0.5),
        ("30s", 30),
        ("5m", 300),
        ("26h", 93600),
        ("7d", 604800),
        ("1h30m", 5400),
        (90, 90),
        ("2.5", 2.5),
    ],
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["soon", "5 parsecs", "-3", True, "1h-5m", ""])
def test_bad_durations_say_what_is_expected(text: object) -> None:
    with pytest.raises(ValueError, match="expected a duration like 30s, 5m, 26h or 7d"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "size"),
    [("1MB", 1_000_000), ("500KiB", 512_000), ("2G", 2_000_000_000), (1024, 1024), ("10 b", 10)],
)
def test_sizes(text: object, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["big", "-1", True, "1.5XB"])
def test_bad_sizes(text: object) -> None:
    with pytest.raises(ValueError, match="expected a size like 500KB, 1MB or 2GiB"):
        parse_size(text)


def test_formatting() -> None:
    assert [format_duration(s) for s in (0.25, 42, 600, 7200 * 3, 86400 * 3)] == [
        "250ms",
        "42.0s",
        "10.0m",
        "6.0h",
        "3.0d",
    ]
    assert [format_size(s) for s in (512, 1_500_000)] == ["512B", "1.5MB"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            Sexagesimal("26:00", 1560),
            "26:00 was read by YAML as the base-60 number 1560; write 26h if you mean hours:minutes, "
            "or 26m if you mean minutes:seconds",
        ),
        (
            "26:00",
            "expected a duration like 30s, 5m, 26h or 7d, got '26:00'; write 26h if you mean hours:minutes",
        ),
        ("1:02:03", "got '1:02:03'; write 1h2m3s (hours:minutes:seconds)"),
    ],
)
def test_clock_style_durations_are_refused_with_unit_spellings(value: object, expected: str) -> None:
    with pytest.raises(ValueError, match=re.escape(expected)):
        parse_duration(value)
