"""Run opsverify jobs on a schedule: the nightly drill, the daily checklists, a periodic smoke probe.

Each run is a separate `python -m pytest --target=... -m TIERS` process; every run is logged as one JSON line.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opsverify.scheduler.model import Schedule

HELP = "run jobs from a schedule file (nightly drill, daily checklist, ...) as a long-running process"
CONFIG_EXIT = (
    4  # a bad schedule file or an unknown job: pytest's "usage error" code, as everywhere in opsverify
)


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
        "--list", action="store_true", help="print the jobs and their next run times, then exit"
    )


def run(args: argparse.Namespace) -> int:
    from opsverify.scheduler.daemon import Scheduler
    from opsverify.scheduler.model import ScheduleError, load_schedule

    try:
        schedule = load_schedule(Path(args.config))
        if args.list:
            print_schedule(schedule)
            return 0
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

    from opsverify.config.types import format_duration
    from opsverify.scheduler.calendar import Calendar, utc_now
    from opsverify.scheduler.daemon import upcoming
    from opsverify.scheduler.state import StateStore

    now = utc_now()
    state = StateStore(schedule.state_dir)
    model = schedule.model
    print(f"schedule {schedule.file}: {len(schedule.jobs)} jobs, time zone {model.timezone}")
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
    disabled = [name for name, job in model.jobs.items() if not job.enabled]
    if disabled:
        print(f"\ndisabled (enabled: false): {', '.join(disabled)}")
