"""When a job is due: fixed intervals, and wall-clock times in an IANA time zone that survive DST changes.

All instants are timezone-aware UTC datetimes. Wall-clock times are turned into instants with zoneinfo:
a time that does not exist on a spring-forward day (02:30 in Europe/Berlin) runs once, at the instant the
clock would have shown it without the jump (03:30); a time that occurs twice on a fall-back day runs once,
at its first occurrence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY_GROUPS: dict[str, frozenset[int]] = {
    "day": frozenset(range(7)),
    "weekday": frozenset(range(5)),
    "weekdays": frozenset(range(5)),
    "weekend": frozenset({5, 6}),
}
# A calendar is due on at least one day in any 62-day window (day_of_month is at most 28).
_SEARCH_DAYS = 62


def utc_now() -> datetime:
    return datetime.now(UTC)


def interval_text(seconds: float) -> str:
    """30 -> '30s', 5400 -> '1h30m', 0.5 -> '500ms': the way intervals are written in the schedule file."""
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    parts = []
    rest = round(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


@dataclass(frozen=True)
class Interval:
    """Every N seconds, counted in real (UTC) time, so DST never stretches or shrinks an interval."""

    seconds: float

    def next_due(self, now: datetime, previous: datetime | None = None) -> datetime:
        """The first instant after `now`: one interval from now, or on the cadence of `previous`."""
        step = timedelta(seconds=self.seconds)
        if previous is None:
            return now + step
        if previous > now:
            return previous
        missed = int((now - previous) / step)
        due = previous + step * (missed + 1)
        return due if due > now else due + step

    def describe(self) -> str:
        return f"every {interval_text(self.seconds)}"


@dataclass(frozen=True)
class Calendar:
    """At wall-clock `times` on the matching days (weekdays, or one day of the month) in `zone`."""

    times: tuple[time, ...]
    zone: ZoneInfo
    weekdays: frozenset[int] = DAY_GROUPS["day"]
    day_of_month: int | None = None

    def next_due(self, now: datetime, previous: datetime | None = None) -> datetime:
        """The first due instant strictly after `now` (and after `previous`, when given)."""
        after = max(now, previous) if previous is not None else now
        first_day = after.astimezone(self.zone).date() - timedelta(days=1)
        for offset in range(_SEARCH_DAYS):
            day = first_day + timedelta(days=offset)
            if not self._matches(day):
                continue
            for at in sorted(self.times):
                due = self.instant(day, at)
                if due > after:
                    return due
        raise AssertionError(f"no due time within {_SEARCH_DAYS} days of {after}")  # pragma: no cover

    def instant(self, day: date, at: time) -> datetime:
        """`at` on `day` in the zone, as UTC (fold=0: the first of a repeated time, the shifted one of a gap)."""
        return datetime.combine(day, at, tzinfo=self.zone).replace(fold=0).astimezone(UTC)

    def _matches(self, day: date) -> bool:
        if self.day_of_month is not None:
            return day.day == self.day_of_month
        return day.weekday() in self.weekdays

    def describe(self) -> str:
        times = ", ".join(at.strftime("%H:%M:%S" if at.second else "%H:%M") for at in sorted(self.times))
        if self.day_of_month is not None:
            days = f"month on day {self.day_of_month}"
        else:
            days = next(
                (name for name, group in DAY_GROUPS.items() if group == self.weekdays),
                ", ".join(WEEKDAYS[i] for i in sorted(self.weekdays)),
            )
        return f"every {days} at {times} ({self.zone.key})"


Timing = Interval | Calendar
