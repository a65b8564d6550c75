"""The schedule file's model (`ci/schedule.yaml`): what each key may say, read and checked by pydantic.
`opsverify.scheduler.load` reads the file into a `Schedule`."""

from __future__ import annotations

import difflib
import re
import shlex
from datetime import time
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import BeforeValidator, Field, ValidationInfo, field_validator

from opsverify.config.types import Duration, StrictModel, Tier, parse_duration
from opsverify.config.yamlsource import Sexagesimal
from opsverify.scheduler.calendar import DAY_GROUPS, WEEKDAYS, Calendar, Interval, Timing

DEFAULT_SCHEDULE = Path("ci/schedule.yaml")
JOB_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_AT = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_DAY_WORDS = (*DAY_GROUPS, *WEEKDAYS, "month")


class ScheduleError(Exception):
    """The schedule file is unusable. The message is complete and user-facing (file, line, key, fix)."""


def _zone(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"expected an IANA time zone name like Europe/Berlin or UTC, got {value!r}")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        guess = difflib.get_close_matches(value, sorted(available_timezones()), n=1)
        hint = f"did you mean {guess[0]!r}?" if guess else "use an IANA name like Europe/Berlin or UTC"
        raise ValueError(f"unknown time zone {value!r}; {hint}") from None
    return value


def _string_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _every(value: Any) -> float | list[str]:
    """A duration (seconds) or calendar words: day, weekday(s), weekend, monday..sunday, month."""
    if isinstance(value, int | float | Sexagesimal) and not isinstance(value, bool):
        seconds = parse_duration(value)  # an unquoted `every: 1:30` is refused with the unit spellings
    elif isinstance(value, str) and value.strip().lower() not in _DAY_WORDS:
        try:
            seconds = parse_duration(value)
        except ValueError:
            guess = difflib.get_close_matches(value.strip().lower(), _DAY_WORDS, n=1)
            hint = f" (did you mean {guess[0]!r}?)" if guess else ""
            raise ValueError(
                f"expected a duration like 30s, 15m or 6h, or one of {', '.join(_DAY_WORDS)}; "
                f"got {value!r}{hint}"
            ) from None
    elif isinstance(value, str | list) and value:
        words = [w.strip().lower() if isinstance(w, str) else w for w in _string_list(value)]
        unknown = [w for w in words if w not in _DAY_WORDS]
        if unknown:
            raise ValueError(f"unknown day {unknown[0]!r}; use {', '.join(_DAY_WORDS)}")
        if "month" in words and len(words) > 1:
            raise ValueError("`month` cannot be combined with days; use a separate job")
        return words
    else:
        raise ValueError(f"expected a duration like 30s or 6h, or day/weekday/monday/..., got {value!r}")
    if seconds < 1:
        raise ValueError(f"an interval must be at least 1s, got {value!r}")
    return seconds


def _at(value: Any) -> list[time] | None:
    if value is None:
        return None
    items = value if isinstance(value, list) else [value]
    if not items:
        raise ValueError(f'expected a time like "02:00" or a list of times, got {value!r}')
    times: list[time] = []
    for item in items:
        match = _AT.match(item) if isinstance(item, str) else None
        if not match or int(match[1]) > 23 or int(match[2]) > 59 or int(match[3] or 0) > 59:
            shown = str(item) if isinstance(item, Sexagesimal) else repr(item)
            raise ValueError(f'expected a 24-hour time like "02:00" or "18:30:15", got {shown}')
        if isinstance(item, Sexagesimal):
            quoted = ", ".join(f'"{i}"' for i in items)
            fix = f"at: [{quoted}]" if isinstance(value, list) else f"at: {quoted}"
            raise ValueError(f"{item} was read by YAML as the base-60 number {item.number}; quote it: {fix}")
        times.append(time(int(match[1]), int(match[2]), int(match[3] or 0)))
    if len(set(times)) != len(times):
        raise ValueError(f"a time is listed twice in {items!r}")
    return times


def _command(value: Any) -> Any:
    return shlex.split(value) if isinstance(value, str) else value


class Job(StrictModel):
    """One scheduled job: when it runs, what it runs (a pytest run against targets, or a command)."""

    every: Annotated[float | list[str], BeforeValidator(_every)]
    at: Annotated[list[time] | None, BeforeValidator(_at)] = Field(default=None, validate_default=True)
    day_of_month: int | None = Field(default=None, ge=1, le=28)
    timezone: Annotated[str | None, BeforeValidator(_zone)] = None
    target: Annotated[list[str], BeforeValidator(_string_list)] = Field(default_factory=list)
    tiers: Annotated[list[Tier], BeforeValidator(_string_list)] = Field(default_factory=list)
    args: list[str] = Field(default_factory=list)
    command: Annotated[list[str] | None, BeforeValidator(_command)] = Field(
        default=None, validate_default=True
    )
    timeout: Duration = Field(default=3600.0, gt=0)
    catch_up: Duration = 0.0
    env: dict[str, str] = Field(default_factory=dict)
    enabled: bool = True
    description: str | None = None

    @field_validator("at")
    @classmethod
    def _at_fits_every(cls, value: list[time] | None, info: ValidationInfo) -> list[time] | None:
        every = info.data.get("every")
        if isinstance(every, float) and value is not None:
            raise ValueError(
                "`at` needs a calendar `every` (day, weekday, monday, ...); "
                f"an interval job runs every {every:g}s from the scheduler's start. Remove `at` or set "
                "every: day"
            )
        if isinstance(every, list) and value is None:
            raise ValueError(f'`every: {", ".join(every)}` needs the time of day: add at: "02:00"')
        return value

    @field_validator("day_of_month")
    @classmethod
    def _day_needs_month(cls, value: int | None, info: ValidationInfo) -> int | None:
        every = info.data.get("every")
        if value is not None and every != ["month"]:
            raise ValueError("`day_of_month` applies to `every: month` only")
        return value

    @field_validator("command")
    @classmethod
    def _target_or_command(cls, value: list[str] | None, info: ValidationInfo) -> list[str] | None:
        pytest_keys = [key for key in ("target", "tiers", "args") if info.data.get(key)]
        if value is not None and pytest_keys:
            raise ValueError(
                f"give either `command` or a pytest run ({', '.join(pytest_keys)}), not both: "
                "`command` replaces the whole pytest command line"
            )
        if value is None and "target" in info.data and not info.data["target"]:
            raise ValueError("a job runs `target: NAME` (pytest --target NAME) or `command: [...]`; add one")
        if value is not None and not value:
            raise ValueError("`command` is empty; give the program and its arguments")
        return value

    def timing(self, default_zone: str) -> Timing:
        if isinstance(self.every, float):
            return Interval(self.every)
        assert self.at is not None  # the validator requires `at` for calendar jobs
        zone = ZoneInfo(self.timezone or default_zone)
        if self.every == ["month"]:
            return Calendar(tuple(self.at), zone, day_of_month=self.day_of_month or 1)
        days = frozenset().union(*(DAY_GROUPS.get(w) or {WEEKDAYS.index(w)} for w in self.every))
        return Calendar(tuple(self.at), zone, weekdays=days)


class ScheduleFile(StrictModel):
    """Top level of the schedule file."""

    timezone: Annotated[str, BeforeValidator(_zone)] = "UTC"
    workdir: str | None = Field(default=None, description="where runs start (default: the current folder)")
    log: str = "reports/scheduler.jsonl"
    output_dir: str = "reports/scheduler"
    state_dir: str | None = None
    keep_outputs: int = Field(default=100, ge=1)
    grace_period: Duration = 120.0
    python: str | None = None
    jobs: dict[str, Job] = Field(min_length=1)

    @field_validator("jobs", mode="before")
    @classmethod
    def _job_names(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for name in value:
                if not JOB_NAME.match(name):
                    raise ValueError(
                        f"job name {name!r}: use letters, digits, '.', '_' and '-' "
                        "(it names the job's lock and output files)"
                    )
        return value
