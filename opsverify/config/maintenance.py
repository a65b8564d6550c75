"""Maintenance windows (`notify.maintenance`): while one is open, failures send nothing.

A window starts at a `cron` time (`minute hour day-of-month month day-of-week`, every field must match:
`0 2 1-7 * sat` is the first Saturday of the month at 02:00) or a `weekly` time (`sat 02:00`), in
`timezone` (UTC unless given), and lasts `duration`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from opsverify.config.types import Duration, StrictModel

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_WINDOW = 7 * 24 * 3600.0
_FIELDS = (
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 7),
)


def _values(text: str, name: str, low: int, high: int) -> frozenset[int]:
    """One cron field: `*`, `5`, `1-7`, `*/15`, `1,15`, and day names for the day of week."""
    found: set[int] = set()
    for part in text.lower().split(","):
        body, _, step_text = part.partition("/")
        for index, day in enumerate(DAYS):
            body = body.replace(day, str(index + 1 if index < 6 else 0)) if name == "day of week" else body
        try:
            step = int(step_text) if step_text else 1
            if body == "*":
                start, end = low, high
            elif "-" in body:
                first, _, last = body.partition("-")
                start, end = int(first), int(last)
            else:
                start = end = int(body)
        except ValueError:
            raise ValueError(f"cron {name} {part!r} is not a number, range, list or */step") from None
        if step < 1 or not (low <= start <= end <= high):
            raise ValueError(f"cron {name} {part!r} must lie within {low}-{high}")
        found.update(range(start, end + 1, step))
    if name == "day of week" and 7 in found:
        found = (found - {7}) | {0}
    return frozenset(found)


def parse_cron(expression: str) -> tuple[frozenset[int], ...]:
    parts = expression.split()
    if len(parts) != 5:
        raise ValueError(
            f"cron {expression!r} needs 5 fields (minute hour day-of-month month day-of-week), e.g. '0 2 1-7 * sat'"
        )
    return tuple(_values(p, name, low, high) for p, (name, low, high) in zip(parts, _FIELDS, strict=True))


def weekly_to_cron(text: str) -> str:
    """`sat 02:00` -> `0 2 * * sat`."""
    day, _, at = text.strip().lower().partition(" ")
    hour, _, minute = at.strip().partition(":")
    if day[:3] not in DAYS or not hour.isdigit() or not minute.isdigit():
        raise ValueError(f"weekly {text!r} must be a day and a time, e.g. 'sat 02:00'")
    return f"{int(minute)} {int(hour)} * * {day[:3]}"


class MaintenanceWindow(StrictModel):
    """One recurring window during which failures are not sent."""

    cron: str | None = Field(
        default=None, description="when it starts: 'minute hour dom month dow' (all must match)"
    )
    weekly: str | None = Field(default=None, description="when it starts each week: 'sat 02:00'")
    duration: Duration = Field(gt=0, le=MAX_WINDOW, description="how long it lasts, e.g. 4h")
    timezone: str = Field(default="UTC", description="IANA zone of the start time")
    reason: str | None = None

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None:
            parse_cron(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}: use an IANA name such as UTC or Europe/Berlin"
            ) from None
        return value

    @model_validator(mode="after")
    def _one_start(self) -> MaintenanceWindow:
        if (self.cron is None) == (self.weekly is None):
            raise ValueError("give exactly one of `cron: '0 2 1-7 * sat'` or `weekly: 'sat 02:00'`")
        if self.weekly is not None:
            weekly_to_cron(self.weekly)
        return self

    def label(self) -> str:
        start = f"weekly {self.weekly}" if self.weekly else f"cron '{self.cron}'"
        hours = self.duration / 3600
        text = f"maintenance window ({start} {self.timezone}, {hours:g}h)"
        return f"{text}: {self.reason}" if self.reason else text

    def is_open(self, now: datetime) -> bool:
        """Whether a window started within `duration` before `now` (whole minutes)."""
        minute, hour, day, month, weekday = parse_cron(self.cron or weekly_to_cron(self.weekly or ""))
        local = now.astimezone(ZoneInfo(self.timezone)).replace(second=0, microsecond=0)
        for back in range(int(self.duration // 60) + 1):
            moment = local - timedelta(minutes=back)
            if (
                moment.minute in minute
                and moment.hour in hour
                and moment.day in day
                and moment.month in month
                and (moment.isoweekday() % 7) in weekday
            ):
                return True
        return False


def open_window(windows: list[MaintenanceWindow], now: datetime) -> MaintenanceWindow | None:
    return next((w for w in windows if w.is_open(now)), None)
