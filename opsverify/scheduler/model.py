"""The schedule file (`ci/schedule.yaml`): jobs, when they run, what they run; validated before anything runs."""

from __future__ import annotations

import difflib
import os
import re
import shlex
import sys
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import BeforeValidator, Field, ValidationError, ValidationInfo, field_validator

from opsverify.config.target import resolve_target_path
from opsverify.config.types import Duration, StrictModel, Tier, parse_duration
from opsverify.config.yamlsource import KeyPath, SourceMap, TargetError, format_path, load_yaml
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
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = parse_duration(value)
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
        if isinstance(item, int) and not isinstance(item, bool):
            raise ValueError(
                f"got the number {item}: YAML reads an unquoted time like 13:00 as a number in base 60; "
                'quote it: at: "13:00"'
            )
        match = _AT.match(item) if isinstance(item, str) else None
        if not match or int(match[1]) > 23 or int(match[2]) > 59 or int(match[3] or 0) > 59:
            raise ValueError(f'expected a 24-hour time like "02:00" or "18:30:15", got {item!r}')
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


@dataclass(frozen=True)
class JobPlan:
    """A validated job with everything resolved: its timing and the exact command it runs."""

    name: str
    spec: Job
    timing: Timing
    argv: tuple[str, ...]

    @property
    def fingerprint(self) -> str:
        """Changes when the job's timing changes, so a remembered due time of an old schedule is dropped."""
        return self.timing.describe()


@dataclass(frozen=True)
class Schedule:
    """A loaded schedule file: absolute paths and one JobPlan per enabled job."""

    file: Path
    model: ScheduleFile
    workdir: Path
    log: Path
    output_dir: Path
    state_dir: Path
    jobs: dict[str, JobPlan]

    def job(self, name: str) -> JobPlan:
        if name not in self.jobs and name in self.model.jobs:
            raise ScheduleError(
                f"{self.file}: job {name!r} is disabled (enabled: false); enable it to run it"
            )
        if name not in self.jobs:
            known = ", ".join(self.jobs) or "none"
            guess = difflib.get_close_matches(name, list(self.jobs), n=1)
            hint = f"did you mean {guess[0]!r}? " if guess else ""
            raise ScheduleError(f"{self.file}: no job {name!r}; {hint}jobs: {known}")
        return self.jobs[name]


def pytest_argv(python: str, job: Job) -> list[str]:
    """`python -m pytest --target=A [--target=B] -m "dr or daily" ARGS...`.

    `--target=PATH` with `=`: pytest takes a separate PATH argument for a test path when it looks for its
    rootdir, and would miss the project's settings.
    """
    argv = [python, "-m", "pytest"]
    argv += [f"--target={target}" for target in job.target]
    if job.tiers:
        argv += ["-m", " or ".join(job.tiers)]
    return argv + list(job.args)


def load_schedule(file: Path, cwd: Path | None = None) -> Schedule:
    """Read and validate a schedule file; every problem raises ScheduleError naming file, line and key."""
    if not file.is_file():
        raise ScheduleError(
            f"{file}: schedule file not found; pass --config PATH (see ci/schedule.yaml for an example)"
        )
    try:
        raw, source = load_yaml(file)
    except TargetError as exc:
        raise ScheduleError(str(exc).replace("target file", "schedule file")) from None
    if not isinstance(raw, dict):
        raise ScheduleError(f"{file}:1: a schedule file is a mapping with a `jobs:` section, got {raw!r}")
    try:
        model = ScheduleFile.model_validate(raw)
    except ValidationError as exc:
        raise ScheduleError(_explain(exc, raw, source)) from None
    base = (cwd or Path.cwd()).resolve()
    workdir = base / model.workdir if model.workdir else base
    if not workdir.is_dir():
        raise ScheduleError(f"{source.where(('workdir',))}: workdir: {workdir} is not a folder")
    state = model.state_dir or os.environ.get("OPSVERIFY_STATE_DIR") or "reports/state"
    python = model.python or sys.executable
    jobs: dict[str, JobPlan] = {}
    for name, job in model.jobs.items():
        if not job.enabled:
            continue
        _check_targets(name, job, workdir, source)
        argv = job.command or pytest_argv(python, job)
        jobs[name] = JobPlan(name, job, job.timing(model.timezone), tuple(argv))
    if not jobs:
        raise ScheduleError(f"{source.where(('jobs',))}: jobs: every job is disabled; nothing to schedule")
    return Schedule(
        file=file,
        model=model,
        workdir=workdir,
        log=workdir / model.log,
        output_dir=workdir / model.output_dir,
        state_dir=workdir / state,
        jobs=jobs,
    )


def _check_targets(name: str, job: Job, workdir: Path, source: SourceMap) -> None:
    """Fail at start, not at 02:00, when a job names a target file that does not exist."""
    given = job.env.get("OPSVERIFY_TARGETS_DIR") or os.environ.get("OPSVERIFY_TARGETS_DIR")
    for index, arg in enumerate(job.args):
        if arg == "--targets-dir" and index + 1 < len(job.args):
            given = job.args[index + 1]
        elif arg.startswith("--targets-dir="):
            given = arg.partition("=")[2]
    targets_dir = workdir / given if given else workdir / "targets"
    for index, spec in enumerate(job.target):
        path = Path(spec)
        candidate = str(path if path.is_absolute() or not (path.suffix or "/" in spec) else workdir / path)
        try:
            resolve_target_path(candidate, targets_dir)
        except TargetError as exc:
            key: KeyPath = (
                ("jobs", name, "target", index) if len(job.target) > 1 else ("jobs", name, "target")
            )
            raise ScheduleError(f"{source.where(key)}: {format_path(key)}: {exc}") from None


def _explain(exc: ValidationError, data: Any, source: SourceMap) -> str:
    """pydantic errors as `file:line: jobs.drill.at: what is wrong; the fix`, one line per key."""
    lines: list[str] = []
    for error in exc.errors(include_url=False):
        path = _data_path(tuple(error["loc"]), data, error["type"])
        line = f"{source.where(path)}: {format_path(path)}: {_message(error, path)}"
        if line not in lines:
            lines.append(line)
    if len(lines) == 1:
        return lines[0]
    return f"{source.file}: {len(lines)} problems in the schedule file:\n  " + "\n  ".join(lines)


def _data_path(loc: tuple[Any, ...], data: Any, error_type: str) -> KeyPath:
    path: list[str | int] = []
    current = data
    for index, part in enumerate(loc):
        if (isinstance(current, dict) and part in current) or (
            isinstance(current, list) and isinstance(part, int) and part < len(current)
        ):
            path.append(part)
            current = current[part]
        elif index == len(loc) - 1 and error_type in ("extra_forbidden", "missing") and isinstance(part, str):
            path.append(part)
    return tuple(path)


def _message(error: Any, path: KeyPath) -> str:
    kind, given, key = error["type"], error.get("input"), str(path[-1]) if path else ""
    if kind == "extra_forbidden":
        model = Job if len(path) == 3 and path[0] == "jobs" else ScheduleFile
        known = list(model.model_fields)
        guess = difflib.get_close_matches(key, known, n=1)
        hint = f"did you mean {guess[0]!r}?" if guess else f"known keys: {', '.join(known)}"
        return f"unknown key {key!r}; remove it or fix its spelling ({hint})"
    if kind == "missing":
        if key == "every":
            return "required key 'every' is missing; add `every: day` with `at: \"02:00\"`, or `every: 1h`"
        return f"required key {key!r} is missing; add `{key}: ...`"
    message = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            return message[len(prefix) :]
    if kind == "literal_error":
        return f"{message[0].lower()}{message[1:]}, got {given!r}"
    if kind in ("dict_type", "model_type"):
        return f"expected a mapping of keys, got {given!r}"
    return f"{message[0].lower()}{message[1:]}, got {given!r}"
