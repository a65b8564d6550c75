"""Value types shared by every check kind's config model: durations, sizes, tiers, severities."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from opsverify.config.yamlsource import Sexagesimal

Tier = Literal["smoke", "daily", "weekly", "monthly", "quarterly", "dr"]
TIERS: tuple[Tier, ...] = ("smoke", "daily", "weekly", "monthly", "quarterly", "dr")
Severity = Literal["blocker", "critical", "normal", "minor", "trivial"]

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_CLOCK = re.compile(r"[-+]?\d[\d_]*(?::\d[\d_]*)+(?:\.\d*)?")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)\s*$", re.IGNORECASE)


def clock_fix(text: str) -> str:
    """The fix for a clock-style duration: `26:00` -> write 26h (hours:minutes) or 26m (minutes:seconds)."""
    parts = text.strip().lstrip("+-").replace("_", "").split(":")

    def spell(*pairs: tuple[str, str]) -> str:
        numbers = [(f"{float(n):g}" if "." in n else str(int(n)), unit) for n, unit in pairs]
        return "".join(n + unit for n, unit in numbers if float(n) != 0) or f"0{pairs[-1][1]}"

    if len(parts) == 2:
        hours, minutes = spell((parts[0], "h"), (parts[1], "m")), spell((parts[0], "m"), (parts[1], "s"))
        return f"write {hours} if you mean hours:minutes, or {minutes} if you mean minutes:seconds"
    if len(parts) == 3:
        return f"write {spell((parts[0], 'h'), (parts[1], 'm'), (parts[2], 's'))} (hours:minutes:seconds)"
    return "write it with a unit, like 30s, 5m, 26h or 1h30m"


def parse_duration(value: Any) -> float:
    """'500ms', '30s', '5m', '26h', '7d', '1h30m' or a number of seconds -> seconds.

    An unquoted `26:00` (YAML 1.1's base-60 number 1560, see Sexagesimal) and a quoted "26:00" are refused
    with the spellings that mean hours or minutes: which one the writer meant cannot be known.
    """
    if isinstance(value, Sexagesimal):
        raise ValueError(f"{value} was read by YAML as the base-60 number {value.number}; {clock_fix(value)}")
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
        if _CLOCK.fullmatch(text):
            raise ValueError(f"expected a duration like 30s, 5m, 26h or 7d, got {value!r}; {clock_fix(text)}")
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


Duration = Annotated[float, BeforeValidator(parse_duration)]
ByteSize = Annotated[int, BeforeValidator(parse_size)]


def empty_list() -> list[Any]:
    """`default_factory` of a list field: `list` itself makes pydantic read the builtin's signature from its
    text form with `tokenize` (its large pattern compiled on first use) for every such field it builds."""
    return []


def empty_dict() -> dict[str, Any]:
    """`default_factory` of a mapping field (see `empty_list`)."""
    return {}


class StrictModel(BaseModel):
    """Base of every target-file model: unknown keys are errors, values are validated on assignment."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class CheckEntry(StrictModel):
    """Keys every check entry accepts."""

    tiers: list[Tier] | None = Field(default=None, description="tiers (pytest markers) this check runs in")
    severity: Severity = "normal"
    description: str | None = None
    enabled: bool = True
    depends_on: list[str] = Field(
        default_factory=empty_list,
        description="check ids (postgres:main) whose failure blocks this check's alert: only the root cause alerts",
    )

    def thresholds(self) -> list[str]:
        """What this entry enforces, one short phrase each (`status 200`, `p95 <= 500 ms`) for `validate`."""
        return []


def _verify_flag(value: Any) -> Any:
    """`verify: ${TLS_VERIFY}` arrives as a string: read "true"/"false" as booleans, anything else as a path."""
    if isinstance(value, str) and value.strip().lower() in _BOOLEAN_WORDS:
        return _BOOLEAN_WORDS[value.strip().lower()]
    return value


_BOOLEAN_WORDS = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}

TlsVerify = Annotated[bool | str, BeforeValidator(_verify_flag)]
"""TLS verification: true (system CAs), false (no verification) or a CA bundle path."""
