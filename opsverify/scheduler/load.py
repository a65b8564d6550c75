"""Loading the schedule file: read and validated, every problem a ScheduleError naming file, line and key;
the result a `Schedule` of absolute paths and one `JobPlan` (timing and exact command) per enabled job."""

from __future__ import annotations

import difflib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from opsverify.config.yamlsource import KeyPath, SourceMap, TargetError, format_path, load_yaml
from opsverify.scheduler.calendar import Timing
from opsverify.scheduler.model import Job, ScheduleError, ScheduleFile
from opsverify.scheduler.targets import MissingTarget, missing_targets_of, pytest_argv


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
        missing = missing_targets_of(name, job, workdir, source)
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
