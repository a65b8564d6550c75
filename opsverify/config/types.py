"""Value types shared by every check kind's config model: durations, sizes, tiers, severities."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

Tier = Literal["smoke", "daily", "weekly", "monthly", "quarterly", "dr"]
TIERS: tuple[Tier, ...] = ("smoke", "daily", "weekly", "monthly", "quarterly", "dr")
Severity = Literal["blocker", "critical", "normal", "minor", "trivial"]

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)\s*$", re.IGNORECASE)


def parse_duration(value: Any) -> float:
    """'500ms', '30s', '5m', '26h', '7d', '1h30m' or a number of seconds -> seconds."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration like 30s, 5m, 26h or 7d, got {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"expected a positive duration, got {value!r}")
        return float(value)
    if isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        if re.fullmatch(r"\d+(\.\d+)?", text):
            return float(text)
        parts = _DURATION_PART.findall(text)
        if parts and "".join(n + u for n, u in parts) == text:
            return sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)
    raise ValueError(f"expected a duration like 30s, 5m, 26h or 7d, got {value!r}")


def parse_size(value: Any) -> int:
    """'1MB', '500KiB', '2G' or a number of bytes -> bytes (KB = 1000, KiB = 1024)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str):
        match = _SIZE.match(value)
        if match:
            number, unit = float(match[1]), match[2].lower()
            base = 1024 if "i" in unit else 1000
            power = " kmgt".index(unit[0]) if unit and unit[0] in "kmgt" else 0
            return int(number * base**power)
    raise ValueError(f"expected a size like 500KB, 1MB or 2GiB, got {value!r}")


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


def format_size(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(size) < 1000:
            return f"{size:.0f}{unit}" if unit == "B" else f"{size:.1f}{unit}"
        size /= 1000
    return f"{size:.1f}TB"


Duration = Annotated[float, BeforeValidator(parse_duration)]
ByteSize = Annotated[int, BeforeValidator(parse_size)]


class StrictModel(BaseModel):
    """Base of every target-file model: unknown keys are errors, values are validated on assignment."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class CheckEntry(StrictModel):
    """Keys every check entry accepts."""

    tiers: list[Tier] | None = Field(default=None, description="tiers (pytest markers) this check runs in")
    severity: Severity = "normal"
    description: str | None = None
    enabled: bool = True


def _verify_flag(value: Any) -> Any:
    """`verify: ${TLS_VERIFY}` arrives as a string: read "true"/"false" as booleans, anything else as a path."""
    if isinstance(value, str) and value.strip().lower() in _BOOLEAN_WORDS:
        return _BOOLEAN_WORDS[value.strip().lower()]
    return value


_BOOLEAN_WORDS = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}

TlsVerify = Annotated[bool | str, BeforeValidator(_verify_flag)]
"""TLS verification: true (system CAs), false (no verification) or a CA bundle path."""
