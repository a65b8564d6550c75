"""One run of a job: a separate process in its own process group, its output in a file, killed at its timeout.

The scheduler only polls runs; nothing a run does (crash, hang, flood of output) can stop the scheduler.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from opsverify.scheduler.calendar import utc_now
from opsverify.scheduler.load import JobPlan, Schedule
from opsverify.scheduler.locks import JobLock

KILL_AFTER_TERM = 5.0  # seconds between SIGTERM and SIGKILL to a run's process group
TIMED_OUT_EXIT = 124  # what `--once` returns for a run killed at its timeout (as timeout(1) does)
PYTEST_STATUS = {
    0: "passed",
    1: "failed",
    2: "interrupted",
    3: "internal-error",
    4: "usage-error",
    5: "no-tests",
}


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="milliseconds") if moment else None


@dataclass
class ActiveRun:
    """A started run. `poll()` enforces its timeout and returns its log record once it has ended."""

    job: JobPlan
    process: subprocess.Popen[bytes]
    lock: JobLock
    output: Path
    trigger: str
    scheduled: datetime | None
    started: datetime
    started_mono: float
    deadline_mono: float
    term_sent: float | None = None
    timed_out: bool = False
    stopped: bool = False
    record: dict[str, Any] | None = field(default=None, repr=False)

    def poll(self, now_mono: float | None = None) -> dict[str, Any] | None:
        """Kill at the deadline (TERM, then KILL); once ended, release the lock and return the record."""
        now = time.monotonic() if now_mono is None else now_mono
        code = self.process.poll()
        if code is None:
            if self.term_sent is None and now >= self.deadline_mono:
                self.timed_out = True
                self.terminate()
            elif self.term_sent is not None and now - self.term_sent >= KILL_AFTER_TERM:
                self._signal_group(signal.SIGKILL)
            return None
        if self.record is None:
            if self.term_sent is not None:
                self._signal_group(signal.SIGKILL)  # leftovers of the group (xdist workers, shells' children)
            self.lock.release()
            self.record = self._finish(code)
        return self.record

    def terminate(self) -> None:
        """Ask the whole process group to stop; poll() escalates to SIGKILL after KILL_AFTER_TERM."""
        if self.term_sent is None:
            self.term_sent = time.monotonic()
            self._signal_group(signal.SIGTERM)

    def _signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)

    def _finish(self, code: int) -> dict[str, Any]:
        finished = utc_now()
        if self.timed_out:
            status = "timed-out"
        elif self.stopped:
            status = "stopped"
        elif self.job.spec.command is None:
            status = PYTEST_STATUS.get(code, "failed" if code > 0 else "killed")
        else:
            status = "passed" if code == 0 else "failed"
        return {
            "event": "run",
            "job": self.job.name,
            "trigger": self.trigger,
            "scheduled": iso(self.scheduled),
            "started": iso(self.started),
            "finished": iso(finished),
            "duration_s": round(time.monotonic() - self.started_mono, 3),
            "exit_code": code,
            "status": status,
            "timed_out": self.timed_out,
            "pid": self.process.pid,
            "output": str(self.output),
        }


def start_run(
    schedule: Schedule, job: JobPlan, lock: JobLock, trigger: str, scheduled: datetime | None
) -> ActiveRun:
    """Start `job` (its lock already held): output to a new file, own process group, lock fd inherited."""
    assert lock.fd is not None
    started = utc_now()
    output = _output_file(schedule.output_dir / job.name, started)
    environment = {
        **os.environ,
        **job.spec.env,
        "OPSVERIFY_SCHEDULE_JOB": job.name,
        "PYTHONUNBUFFERED": "1",
    }
    with open(output, "wb") as handle:
        _write_header(handle, job, trigger, started, schedule.workdir)
        process = subprocess.Popen(
            list(job.argv),
            cwd=schedule.workdir,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a timeout kills pytest and its workers
            pass_fds=(lock.fd,),  # the run holds the job lock as long as it lives
        )
    mono = time.monotonic()
    lock.record(pid=process.pid, job=job.name, started=iso(started), trigger=trigger, output=str(output))
    return ActiveRun(
        job=job,
        process=process,
        lock=lock,
        output=output,
        trigger=trigger,
        scheduled=scheduled,
        started=started,
        started_mono=mono,
        deadline_mono=mono + job.spec.timeout,
    )


def _output_file(folder: Path, started: datetime) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    for attempt in range(1000):
        path = folder / (f"{stamp}.log" if attempt == 0 else f"{stamp}-{attempt}.log")
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"{folder}: cannot create an output file for {stamp}")


def _write_header(handle: IO[bytes], job: JobPlan, trigger: str, started: datetime, workdir: Path) -> None:
    command = " ".join(job.argv)
    header = f"# opsverify schedule: job {job.name} ({trigger}) started {iso(started)} in {workdir}\n"
    handle.write(f"{header}# $ {command}\n".encode())
    handle.flush()


def prune_outputs(folder: Path, keep: int) -> None:
    """Keep the newest `keep` output files of one job."""
    try:
        files = sorted(folder.glob("*.log"), key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return
    for old in files[keep:]:
        old.unlink(missing_ok=True)


class RunLog:
    """The JSON-lines log: one line per run and per scheduler event, appended and flushed at once."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, record: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"time": iso(utc_now()), **record}, sort_keys=False) + "\n"
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(line)
