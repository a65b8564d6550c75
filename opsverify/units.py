"""Formatting of numbers for people: durations, sizes, counts with their noun, bounds, measured values."""

from __future__ import annotations

import math
import re
from typing import Literal


def format_duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 120:
        return f"{seconds:.1f}s"
    if seconds < 7200:
        return f"{seconds / 60:.1f}m"
    if seconds < 172800:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


def human_duration(seconds: float) -> str:
    """`26h` rather than `26.0h` for round values in messages."""
    return re.sub(r"\.0(?=[a-z])", "", format_duration(seconds))


def format_size(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(size) < 1000:
            return f"{size:.0f}{unit}" if unit == "B" else f"{size:.1f}{unit}"
        size /= 1000
    return f"{size:.1f}TB"


def plural(count: float, word: str, many: str | None = None) -> str:
    """A count with its noun: `1 check`, `2 checks`, `0 files`, `1 entry`, `3 entries`, `2 series`.

    `many` is the plural when the rules below do not give it; a float count shows as 0.5 or 1e+06.
    """
    shown = str(count) if isinstance(count, int) else f"{count:.6g}"
    return f"{shown} {word if count == 1 else (many or plural_of(word))}"


_INVARIANT_NOUNS = frozenset({"series", "species", "data"})


def plural_of(word: str) -> str:
    """The plural of an English noun (the last word of a phrase): check -> checks, match -> matches."""
    head, _, last = word.rpartition(" ")
    lower = last.lower()
    if lower in _INVARIANT_NOUNS:
        many = last
    elif lower.endswith("y") and len(lower) > 1 and lower[-2] not in "aeiou":
        many = last[:-1] + "ies"
    elif lower.endswith(("s", "x", "z", "ch", "sh")):
        many = last + "es"
    else:
        many = last + "s"
    return f"{head} {many}" if head else many


BOUND_SYMBOLS = {"max": "<=", "min": ">=", "equals": "="}


def bound(limit: Literal["max", "min", "equals"], value: float | str, unit: str = "") -> str:
    """One bound as opsverify writes it everywhere, in problems and in `opsverify validate`: `<= 500 ms`,
    `>= 3 backups`, `= 0`. ASCII on purpose: it reads the same in a terminal of any locale, in Slack, e-mail
    and JUnit XML, and it is what a user types in a condition (`$.workers >= 1`). `value` is a number (written
    `:g`, an int as it is) or text already formatted (`26h`, `1.0MB`); `unit` follows it as given (`%`, ` ms`)."""
    shown = value if isinstance(value, str) else str(value) if isinstance(value, int) else f"{value:g}"
    return f"{BOUND_SYMBOLS[limit]} {shown}{unit}"


def limits(
    *, at_most: float | None = None, at_least: float | None = None, equals: float | None = None
) -> str:
    """Bounds as a reviewer reads them: `<= 500`, `>= 30`, `between 1 and 5`, `= 0` (empty when none)."""
    if equals is not None:
        return bound("equals", float(equals))
    if at_most is not None and at_least is not None:
        return f"between {at_least:g} and {at_most:g}"
    if at_most is not None:
        return bound("max", float(at_most))
    return bound("min", float(at_least)) if at_least is not None else ""


def format_number(value: float) -> str:
    """A measured value as operators read it: 0.0123, 97, 1.5e+09, NaN, +Inf."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return f"{value:.6g}"
