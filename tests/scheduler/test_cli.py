"""`opsverify schedule --once JOB | --list`, a bad schedule file, and the job lock seen from outside."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

from opsverify.scheduler.locks import JobLock
from tests.scheduler.conftest import py, run_cli


def write(project, text):
    (project / "schedule.yaml").write_text(text)


def log_lines(project):
    path = project / "reports" / "scheduler.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_once_runs_the_job_now_and_exits_with_its_code(project):
    write(
        project,
        f"jobs:\n  crash: {{every: day, at: '02:00', command: {py('print(42); raise SystemExit(3)')}}}\n",
    )
    result = run_cli(project, "--once", "crash")
    assert result.returncode == 3, result.stderr
    (record,) = log_lines(project)
    assert record["event"] == "run"
    assert record["trigger"] == "once"
    assert record["scheduled"] is None
    assert "42" in Path(record["output"]).read_text()
    assert "crash: failed (exit 3)" in result.stderr


def test_once_returns_124_when_the_run_hangs_past_its_timeout(project):
    write(
        project, f"jobs:\n  hang: {{every: 1h, timeout: 1s, command: {py('import time; time.sleep(30)')}}}\n"
    )
    result = run_cli(project, "--once", "hang")
    assert result.returncode == 124
    assert log_lines(project)[0]["timed_out"] is True


def test_once_refuses_while_another_process_holds_the_job_lock_and_takes_over_a_stale_one(project):
    write(project, f"jobs:\n  drill: {{every: day, at: '02:00', command: {py('pass')}}}\n")
    lock_path = project / "reports" / "state" / "locks" / "drill.lock"
    lock_path.parent.mkdir(parents=True)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl,json,os,sys,time; f=open(sys.argv[1],'w'); fcntl.flock(f, fcntl.LOCK_EX); "
            "f.write(json.dumps({'pid': os.getpid(), 'started': 'earlier', 'trigger': 'schedule'})); f.flush(); "
            "print('locked', flush=True); time.sleep(60)",
            str(lock_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        busy = run_cli(project, "--once", "drill")
        assert busy.returncode == 75
        assert (
            f"not started, the previous run is still running (pid {holder.pid} since earlier (schedule))"
            in busy.stderr
        )
        assert log_lines(project)[0]["event"] == "skipped"
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    # the lock file still names the dead holder: it is stale and taken over
    assert str(holder.pid) in lock_path.read_text()
    assert run_cli(project, "--once", "drill").returncode == 0
    assert log_lines(project)[-1]["status"] == "passed"


def test_the_lock_is_held_by_the_run_itself_while_it_lives(tmp_path):
    lock = JobLock(tmp_path / "job.lock")
    assert lock.acquire()
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], pass_fds=(lock.fd,))
    try:
        lock.record(pid=child.pid)
        os.close(lock.fd)  # the scheduler is gone (lock.fd closed); the run still holds the lock
        lock.fd = None
        assert not JobLock(tmp_path / "job.lock").acquire()
        assert JobLock(tmp_path / "job.lock").holder()["pid"] == child.pid
    finally:
        child.kill()
        child.wait()
    again = JobLock(tmp_path / "job.lock")
    assert again.acquire()
    again.release()
    with open(tmp_path / "job.lock") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released means really unlocked


def test_list_prints_jobs_and_next_run_times(project):
    (project / "targets" / "prod.yaml").write_text("target: prod\n")
    write(
        project,
        "timezone: Europe/Berlin\njobs:\n"
        "  checklist: {every: day, at: ['09:00', '13:00', '18:00'], target: prod, tiers: [daily],"
        ' description: "the guide\'s morning, midday and evening checks"}\n'
        "  probe: {every: 30s, target: prod, tiers: [smoke], args: [-q]}\n"
        "  old: {every: 1h, target: prod, enabled: false}\n",
    )
    result = run_cli(project, "--list")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "schedule schedule.yaml: 2 jobs, time zone Europe/Berlin" in out
    assert "checklist: every day at 09:00, 13:00, 18:00 (Europe/Berlin); timeout 60.0m" in out
    assert "the guide's morning, midday and evening checks" in out
    assert out.count("  next ") == 6
    assert "runs " in out
    assert f"-m pytest --rootdir={project} -m daily --target={project / 'targets' / 'prod.yaml'}" in out
    assert "probe: every 30s" in out
    assert "(in 30.0s)" in out
    assert "disabled (enabled: false): old" in out
    assert not (project / "reports").exists(), "--list runs nothing and writes nothing"


def test_a_bad_schedule_file_exits_4_before_anything_runs(project):
    marker = project / "ran"
    touch = py(f"open({str(marker)!r}, 'w')")
    write(
        project,
        f"jobs:\n  good: {{every: 1s, command: {touch}}}\n  bad: {{every: day, at: 13:00, command: [x]}}\n",
    )
    for args in ((), ("--once", "good"), ("--list",)):
        result = run_cli(project, *args)
        assert result.returncode == 4
        assert "error: " in result.stderr
        assert (
            "schedule.yaml:3: jobs.bad.at: 13:00 was read by YAML as the base-60 number 780" in result.stderr
        )
        assert "Traceback" not in result.stderr
    assert not marker.exists()
    assert not (project / "reports").exists()


def test_unknown_job_for_once(project):
    write(project, f"jobs:\n  drill: {{every: 1h, command: {py('pass')}}}\n")
    result = run_cli(project, "--once", "dril")
    assert result.returncode == 4
    assert "no job 'dril'; did you mean 'drill'? jobs: drill" in result.stderr
