"""The schedule file (`ci/schedule.yaml`): jobs, when they run, what they run; validated before anything runs."""

from __future__ import annotations

import difflib
import os
import re
import shlex
import sys
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import BeforeValidator, Field, ValidationError, ValidationInfo, field_validator

from opsverify.config.target import list_targets, resolve_target_path
from opsverify.config.types import Duration, StrictModel, Tier, parse_duration
from opsverify.config.yamlsource import (
    KeyPath,
    Sexagesimal,
    SourceMap,
    TargetError,
    format_path,
    load_yaml,
)
from opsverify.run import ALL_TIERS, pytest_command
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
    # job name -> its target files that do not exist on this machine (the scheduler refuses to start);
    # only filled by `load_schedule(..., require_targets=False)`, which `--list` uses
    missing_targets: dict[str, list[MissingTarget]] = field(default_factory=dict)

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


def pytest_argv(python: str, job: Job, workdir: Path) -> list[str]:
    """What `opsverify run "dr or daily" --target A --target B -- ARGS` runs from `workdir` (see
    opsverify.run.pytest_command): `python -m pytest --rootdir=ROOT ... -m "dr or daily" --target=/abs/A ...`.

    A target that does not exist becomes the path it would have (for `--list`); starting refuses it.
    """
    return pytest_command(
        " or ".join(job.tiers) or ALL_TIERS,
        job.target,
        cwd=workdir,
        targets_dir=_job_targets_dir(job, workdir),
        extra=job.args,
        python=python,
        require_targets=False,
    )


def load_schedule(file: Path, cwd: Path | None = None, *, require_targets: bool = True) -> Schedule:
    """Read and validate a schedule file; every problem raises ScheduleError naming file, line and key.

    With `require_targets=False` (`--list`), a job whose target file does not exist here is kept, and what
    is missing goes to `Schedule.missing_targets` instead: the file can be listed without the targets.
    """
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
    missing_targets: dict[str, list[MissingTarget]] = {}
    for name, job in model.jobs.items():
        if not job.enabled:
            continue
        missing = _missing_targets(name, job, workdir, source)
        if missing and require_targets:
            raise ScheduleError(missing[0].error)
        if missing:
            missing_targets[name] = missing
        argv = job.command or pytest_argv(python, job, workdir)
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
        missing_targets=missing_targets,
    )


@dataclass(frozen=True)
class MissingTarget:
    """A job's target that names no existing file: where the schedule says it, and what was looked for."""

    key: KeyPath  # jobs.<name>.target (or .target[i])
    where: str  # file:line of that key
    spec: str  # as written: a name (prod) or a path
    named: bool  # a name looked up in targets_dir, not a path
    expected: Path  # the file a name resolves to (targets/prod.yaml), or the path as given
    targets_dir: Path
    reason: str  # TargetError's message

    @property
    def error(self) -> str:
        """The line that stops the scheduler: `file:line: jobs.x.target: target 'prod' not found: ...`."""
        return f"{self.where}: {format_path(self.key)}: {self.reason}"

    @property
    def shown(self) -> str:
        """The missing file, relative to the current folder when it is inside it (targets/prod.yaml)."""
        return shown_path(self.expected)

    def problem(self) -> str:
        """The `--list` line: what is missing, what exists, and both fixes (create it, or change the job)."""
        known = list_targets(self.targets_dir)
        folder = shown_path(self.targets_dir) + "/"
        found = f"{folder} has: {', '.join(known)}" if known else f"{folder} has no target files"
        what = f"target {self.spec!r}" if self.named else f"target file {self.spec}"
        return (
            f"{what} not found: no {self.shown} ({found}); create {self.shown}, or change "
            f"{format_path(self.key)} at {self.where}"
        )


def shown_path(path: Path) -> str:
    """`path` relative to the current folder when it is inside it, else as it is."""
    try:
        return str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _job_targets_dir(job: Job, workdir: Path) -> Path:
    """Where the job's target names are: `--targets-dir` in its args, else OPSVERIFY_TARGETS_DIR (its env,
    then the scheduler's), else workdir/targets; relative to workdir."""
    given = job.env.get("OPSVERIFY_TARGETS_DIR") or os.environ.get("OPSVERIFY_TARGETS_DIR")
    for index, arg in enumerate(job.args):
        if arg == "--targets-dir" and index + 1 < len(job.args):
            given = job.args[index + 1]
        elif arg.startswith("--targets-dir="):
            given = arg.partition("=")[2]
    return workdir / given if given else workdir / "targets"


def _missing_targets(name: str, job: Job, workdir: Path, source: SourceMap) -> list[MissingTarget]:
    """The job's targets that name no existing file: found at load time, not at 02:00."""
    targets_dir = _job_targets_dir(job, workdir)
    missing: list[MissingTarget] = []
    for index, spec in enumerate(job.target):
        path = Path(spec)
        is_path = bool(path.suffix or "/" in spec)
        candidate = str(path if path.is_absolute() or not is_path else workdir / path)
        try:
            resolve_target_path(candidate, targets_dir)
        except TargetError as exc:
            key: KeyPath = (
                ("jobs", name, "target", index) if len(job.target) > 1 else ("jobs", name, "target")
            )
            expected = Path(candidate).expanduser() if is_path else targets_dir / f"{spec}.yaml"
            missing.append(
                MissingTarget(key, source.where(key), spec, not is_path, expected, targets_dir, str(exc))
            )
    return missing


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
