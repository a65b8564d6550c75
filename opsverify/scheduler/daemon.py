"""The long-running scheduler: start due jobs, never two runs of one job, catch up missed runs, stop cleanly.

A single-threaded loop ticks a few times a second: it reaps finished runs (one JSON log line each), kills runs
past their timeout, and starts jobs whose due time has come. SIGTERM or Ctrl-C stops new runs; running ones
get `grace_period` to finish, then their process groups are killed; the scheduler exits 0 either way.
"""

from __future__ import annotations

import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from types import FrameType
from typing import Any, TextIO

from opsverify.scheduler.calendar import utc_now
from opsverify.scheduler.load import JobPlan, Schedule
from opsverify.scheduler.locks import JobLock, describe_holder
from opsverify.scheduler.runner import TIMED_OUT_EXIT, ActiveRun, RunLog, iso, prune_outputs, start_run
from opsverify.scheduler.state import StateStore
from opsverify.units import format_duration, plural

TICK = 0.2  # seconds between loop passes: how quickly runs are reaped and signals are noticed
ON_TIME = 60.0  # a run started this late is still "on time", whatever its catch_up window
BUSY_EXIT = 75  # `--once` while the job is already running (EX_TEMPFAIL)


class Scheduler:
    """Runs the jobs of one schedule file."""

    def __init__(self, schedule: Schedule, out: TextIO | None = None) -> None:
        self.schedule = schedule
        self.out = out or sys.stderr
        self.log = RunLog(schedule.log)
        self.state = StateStore(schedule.state_dir)
        self.active: dict[str, ActiveRun] = {}
        self.due: dict[str, datetime] = {}
        self.signals: list[str] = []  # names of the stop signals received, appended by the handler only

    # --- the loop ---------------------------------------------------------------------------------------

    def serve(self) -> int:
        """Run until SIGTERM/SIGINT; always returns 0 after a clean stop."""
        with self._signals():
            self._event("started", jobs=list(self.schedule.jobs), config=str(self.schedule.file))
            self.say(f"scheduler started: {plural(len(self.schedule.jobs), 'job')} from {self.schedule.file}")
            now = utc_now()
            for job in self.schedule.jobs.values():
                self._plan_first(job, now)
            while not self.signals:
                self._pass(self._start_due)
            self._drain()
        self._event("stopped")
        self.say("scheduler stopped")
        return 0

    def run_once(self, name: str) -> int:
        """Run one job now, wait for it, log it; return its exit code (124 timed out, 75 already running)."""
        job = self.schedule.job(name)
        with self._signals():
            run = self._start(job, "once", None)
            if run is None:
                return BUSY_EXIT
            while name in self.active and not self.signals:
                self._pass(None)
            self._drain()
        record = run.record or {}
        if record.get("timed_out"):
            return TIMED_OUT_EXIT
        code = record.get("exit_code")
        return code if isinstance(code, int) and code >= 0 else 1

    def _pass(self, start: Callable[[datetime], None] | None) -> None:
        """One tick: reap and time out runs, then (when given) start due jobs. Never raises."""
        try:
            self._reap()
            if start is not None:
                start(utc_now())
        except Exception:  # noqa: BLE001 -- a daemon reports a bug in one pass and keeps scheduling
            self.say(f"internal error (the scheduler keeps running):\n{traceback.format_exc()}")
        time.sleep(TICK)

    def _drain(self) -> None:
        """After a stop signal: no new runs; wait up to grace_period, then kill what still runs."""
        if self.signals:
            self._event("stop-requested", signal=self.signals[0])
            self.say(f"{self.signals[0]}: no new runs")
        if not self.active:
            return
        grace = self.schedule.model.grace_period
        names = ", ".join(self.active)
        self.say(f"stopping: waiting up to {format_duration(grace)} for {names}")
        deadline = time.monotonic() + grace
        seen = len(self.signals)
        while self.active:
            if len(self.signals) > seen:
                self.say(f"{self.signals[-1]} again: killing running jobs now")
                seen = len(self.signals)
                deadline = time.monotonic()
            if time.monotonic() >= deadline:
                for run in self.active.values():
                    if run.term_sent is None:
                        self.say(f"{run.job.name}: still running at shutdown, killing its process group")
                        run.stopped = True
                        run.terminate()
            self._pass(None)

    # --- planning and starting --------------------------------------------------------------------------

    def _plan_first(self, job: JobPlan, now: datetime) -> None:
        """The first due time: a remembered one (catching up a run missed while down), or the next one."""
        remembered = self.state.remembered_due(job.name, job.fingerprint)
        if remembered is None:
            self._set_due(job, job.timing.next_due(now))
        else:
            self.due[job.name] = remembered  # when overdue, _start_due decides: catch up, or log it missed

    def _start_due(self, now: datetime) -> None:
        for job in self.schedule.jobs.values():
            due = self.due[job.name]
            if due > now:
                continue
            late = (now - due).total_seconds()
            window = max(job.spec.catch_up, ON_TIME)
            self._set_due(job, job.timing.next_due(now, due))
            if late > window:
                self._event("missed", job=job.name, scheduled=iso(due), late_s=round(late, 1))
                self.say(
                    f"{job.name}: missed the run due {iso(due)} ({format_duration(late)} late, beyond "
                    f"catch_up {format_duration(job.spec.catch_up)}); next {iso(self.due[job.name])}"
                )
                continue
            self._start(job, "schedule" if late <= ON_TIME else "catch-up", due)

    def _set_due(self, job: JobPlan, due: datetime) -> None:
        self.due[job.name] = due
        self._remember(job.name, fingerprint=job.fingerprint, next_due=due)

    def _remember(self, name: str, **fields: Any) -> None:
        try:
            self.state.update(name, **fields)
        except OSError as exc:
            self.say(f"cannot write {self.state.path}: {exc} (catch-up after a restart needs it)")

    def _start(self, job: JobPlan, trigger: str, scheduled: datetime | None) -> ActiveRun | None:
        """Start a run unless one of this job is running (here or in another process): then log a skip."""
        lock = JobLock(self.schedule.state_dir / "locks" / f"{job.name}.lock")
        if job.name in self.active or not lock.acquire():
            run = self.active.get(job.name)
            holder = (
                {"pid": run.process.pid, "started": iso(run.started), "trigger": run.trigger}
                if run
                else lock.holder()
            )
            self._event("skipped", job=job.name, trigger=trigger, scheduled=iso(scheduled), holder=holder)
            self.say(
                f"{job.name}: not started, the previous run is still running ({describe_holder(holder)})"
            )
            return None
        try:
            run = start_run(self.schedule, job, lock, trigger, scheduled)
        except OSError as exc:
            lock.release()
            self._event(
                "run", job=job.name, trigger=trigger, scheduled=iso(scheduled), status="error", error=str(exc)
            )
            self.say(f"{job.name}: could not start {job.argv[0]!r}: {exc}")
            self._remember(job.name, last_started=utc_now(), last_status="error", last_error=str(exc))
            return None
        self.active[job.name] = run
        self._remember(job.name, last_started=run.started, last_output=str(run.output))
        self.say(f"{job.name}: started ({trigger}, pid {run.process.pid}) -> {run.output}")
        return run

    def _reap(self) -> None:
        for name, run in list(self.active.items()):
            if run.term_sent is None and time.monotonic() >= run.deadline_mono:
                self.say(f"{name}: timeout of {format_duration(run.job.spec.timeout)} reached, killing it")
            record = run.poll()
            if record is None:
                continue
            del self.active[name]
            self._write(record)
            self._remember(
                name,
                last_finished=record["finished"],
                last_exit_code=record["exit_code"],
                last_status=record["status"],
                last_duration_s=record["duration_s"],
            )
            prune_outputs(run.output.parent, self.schedule.model.keep_outputs)
            self.say(
                f"{name}: {record['status']} (exit {record['exit_code']}) in "
                f"{format_duration(record['duration_s'])}; output {record['output']}"
            )

    # --- signals and output -----------------------------------------------------------------------------

    @contextmanager
    def _signals(self) -> Iterator[None]:
        """SIGTERM and SIGINT only record themselves; the loop reacts (no I/O inside a signal handler)."""

        def stop(signum: int, frame: FrameType | None) -> None:
            self.signals.append(signal.Signals(signum).name)

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _event(self, event: str, **fields: Any) -> None:
        self._write({"event": event, **fields})

    def _write(self, record: dict[str, Any]) -> None:
        try:
            self.log.write(record)
        except OSError as exc:
            self.say(f"cannot write {self.schedule.log}: {exc}; the record was: {record}")

    def say(self, message: str) -> None:
        stamp = utc_now().strftime("%Y-%m-%d %H:%M:%S")
        print(f"{stamp} UTC opsverify schedule: {message}", file=self.out, flush=True)


def upcoming(job: JobPlan, state: StateStore, now: datetime, count: int = 3) -> list[datetime]:
    """The next `count` due times of a job (a remembered due time first, as the scheduler would use it)."""
    remembered = state.remembered_due(job.name, job.fingerprint)
    due = remembered if remembered is not None and remembered > now else None
    times: list[datetime] = []
    current = now
    while len(times) < count:
        due = due if due is not None else job.timing.next_due(current, times[-1] if times else None)
        times.append(due)
        current, due = due, None
    return times
