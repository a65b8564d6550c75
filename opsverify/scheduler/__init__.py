"""Run opsverify jobs on a schedule: the nightly drill, the daily checklists, a periodic smoke probe.

Each run is a separate pytest process, the one `opsverify run TIERS --target ...` would start; every run is
logged as one JSON line.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from opsverify.units import plural

if TYPE_CHECKING:
    from opsverify.scheduler.load import Schedule

HELP = "run jobs from a schedule file (nightly drill, daily checklist, ...) as a long-running process"
CONFIG_EXIT = (
    4  # a bad schedule file or an unknown job: pytest's "usage error" code, as everywhere in opsverify
)
# `--list` printed every job, but a job names a target file that does not exist here, so the scheduler
# would refuse to start (CONFIG_EXIT); like `opsverify validate`, 1 means "listed, and not ready"
LIST_PROBLEMS_EXIT = 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Define this subcommand's options."""
    parser.add_argument(
        "--config",
        default=os.environ.get("OPSVERIFY_SCHEDULE", "ci/schedule.yaml"),
        metavar="FILE",
        help="schedule file (default: $OPSVERIFY_SCHEDULE or ci/schedule.yaml)",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--once", metavar="JOB", help="run JOB now, wait for it and exit with its exit code")
    mode.add_argument(
        "--list",
        action="store_true",
        help="print the jobs and their next run times, marking a missing target file with '!', then exit "
        "(0: ready to run; 1: listed, but a target file is missing; 4: a bad schedule file)",
    )


def run(args: argparse.Namespace) -> int:
    from opsverify.scheduler.daemon import Scheduler
    from opsverify.scheduler.load import load_schedule
    from opsverify.scheduler.model import ScheduleError

    try:
        schedule = load_schedule(Path(args.config), require_targets=not args.list)
        if args.list:
            print_schedule(schedule)
            return LIST_PROBLEMS_EXIT if schedule.missing_targets else 0
        scheduler = Scheduler(schedule)
        if args.once:
            return scheduler.run_once(args.once)
    except ScheduleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return CONFIG_EXIT
    return scheduler.serve()


def print_schedule(schedule: Schedule) -> None:
    """`--list`: every job, what it runs, and its next three run times in its own time zone."""
    from zoneinfo import ZoneInfo

    from opsverify.scheduler.calendar import Calendar, utc_now
    from opsverify.scheduler.daemon import upcoming
    from opsverify.scheduler.state import StateStore
    from opsverify.units import format_duration

    now = utc_now()
    state = StateStore(schedule.state_dir)
    model = schedule.model
    print(f"schedule {schedule.file}: {plural(len(schedule.jobs), 'job')}, time zone {model.timezone}")
    print(f"  runs in {schedule.workdir}; log {schedule.log}; outputs {schedule.output_dir}")
    for job in schedule.jobs.values():
        zone = job.timing.zone if isinstance(job.timing, Calendar) else ZoneInfo(model.timezone)
        spec = job.spec
        limits = f"timeout {format_duration(spec.timeout)}"
        if spec.catch_up:
            limits += f", catch_up {format_duration(spec.catch_up)}"
        print(f"\n{job.name}: {job.timing.describe()}; {limits}")
        if spec.description:
            print(f"  {spec.description}")
        for due in upcoming(job, state, now):
            local = due.astimezone(zone)
            print(
                f"  next {local:%a %Y-%m-%d %H:%M:%S %Z}  (in {format_duration((due - now).total_seconds())})"
            )
        print(f"  runs {shlex.join(job.argv)}")
        for missing in schedule.missing_targets.get(job.name, []):
            print(f"  ! {missing.problem()}")
    disabled = [name for name, job in model.jobs.items() if not job.enabled]
    if disabled:
        print(f"\ndisabled (enabled: false): {', '.join(disabled)}")
    if schedule.missing_targets:
        files = sorted({m.shown for lines in schedule.missing_targets.values() for m in lines})
        jobs = len(schedule.missing_targets)
        print(
            f"\n! missing here: {', '.join(files)} (named by {jobs} job{'s' if jobs > 1 else ''}). "
            f"`opsverify schedule` refuses to start until every target file exists (exit {CONFIG_EXIT}); "
            f"create {'them' if len(files) > 1 else 'it'}, or change the jobs' `target:`"
        )
