"""The scheduler as a real process: jobs every second, crashes, hangs, no overlap, SIGTERM, wake-up."""

from __future__ import annotations

import signal
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest

from tests.scheduler.conftest import pid_alive, py


def test_runs_jobs_logs_one_line_per_run_and_survives_crashes(start_scheduler, project):
    ok, crash, boom = py("print('all good')"), py("raise SystemExit(3)"), py("import os; os.abort()")
    scheduler = start_scheduler(
        "jobs:\n"
        f"  ok: {{every: 1s, command: {ok}}}\n"
        f"  crash: {{every: 1s, command: {crash}}}\n"
        f"  boom: {{every: 1s, command: {boom}}}\n"
        "  missing: {every: 1s, command: [/no/such/program]}\n"
    )
    scheduler.wait_for(
        lambda: all(len(scheduler.records("run", job)) >= 2 for job in ("ok", "crash", "boom", "missing")),
        message="two runs of every job",
    )
    assert scheduler.stop() == 0

    ok = scheduler.records("run", "ok")[0]
    assert ok["status"] == "passed"
    assert ok["exit_code"] == 0
    assert ok["timed_out"] is False
    assert ok["trigger"] == "schedule"
    assert ok["duration_s"] > 0
    for key in ("started", "finished", "scheduled"):
        assert datetime.fromisoformat(ok[key]).tzinfo is not None
    output = Path(ok["output"])
    assert output.parent == project / "reports" / "scheduler" / "ok"
    assert "all good" in output.read_text()
    assert output.read_text().startswith("# opsverify schedule: job ok (schedule)")

    crash = scheduler.records("run", "crash")[0]
    assert (crash["exit_code"], crash["status"]) == (3, "failed")
    boom = scheduler.records("run", "boom")[0]
    assert boom["exit_code"] == -signal.SIGABRT
    assert boom["status"] == "failed"
    missing = scheduler.records("run", "missing")[0]
    assert missing["status"] == "error"
    assert "/no/such/program" in missing["error"]
    assert next(r["event"] for r in scheduler.records()) == "started"
    assert scheduler.records()[-1]["event"] == "stopped"
    assert "ok: passed (exit 0)" in scheduler.stderr


def test_a_job_still_running_is_not_started_again(start_scheduler, project):
    marks = project / "marks.txt"
    body = (
        f"import time; f=open({str(marks)!r},'a'); f.write('start %f ' % time.time()); f.flush(); "
        "time.sleep(1.3); f.write('end %f ' % time.time())"
    )
    scheduler = start_scheduler(f"jobs:\n  slow: {{every: 1s, command: {py(body)}}}\n")
    scheduler.wait_for(
        lambda: marks.exists() and marks.read_text().count("start") >= 2, message="a second run"
    )
    assert scheduler.stop() == 0  # lets the second run finish
    skipped = scheduler.records("skipped", "slow")
    assert skipped, "a due time while the job ran must be logged as skipped"
    assert skipped[0]["holder"]["pid"] == scheduler.records("run", "slow")[0]["pid"]
    kinds = marks.read_text().split()[::2]
    assert kinds[:4] == ["start", "end", "start", "end"], "runs of one job must never overlap"
    assert "not started, the previous run is still running" in scheduler.stderr


def test_a_hanging_run_is_killed_at_its_timeout_with_its_process_group(start_scheduler, project):
    child_pid = project / "grandchild.pid"
    body = (
        "import subprocess,sys,time; "
        "p=subprocess.Popen([sys.executable,'-c','import time; time.sleep(60)']); "
        f"open({str(child_pid)!r},'w').write(str(p.pid)); time.sleep(60)"
    )
    scheduler = start_scheduler(
        f"jobs:\n  hang: {{every: 1s, timeout: 1s, command: {py(body)}}}\n"
        f"  beat: {{every: 1s, command: {py('pass')}}}\n"
    )
    record = scheduler.wait_for(lambda: scheduler.records("run", "hang"), message="the hanging run")[0]
    assert record["timed_out"] is True
    assert record["status"] == "timed-out"
    assert 1 <= record["duration_s"] < 1 + 20  # cut at its 1 s timeout, far before its 60 s sleep
    grandchild = int(child_pid.read_text())
    scheduler.wait_for(lambda: not pid_alive(grandchild), timeout=5, message="the grandchild to be killed")
    # the scheduler keeps scheduling: other jobs and the next run of the same job
    scheduler.wait_for(lambda: scheduler.stderr.count("hang: started") >= 2, message="a second run of hang")
    assert len(scheduler.records("run", "beat")) >= 2
    assert scheduler.stop() == 0
    assert "timeout of 1.0s reached, killing it" in scheduler.stderr


def test_sigterm_lets_the_running_job_finish_and_starts_nothing_new(start_scheduler, project):
    body = "import time; time.sleep(1.5); print('finished cleanly')"
    scheduler = start_scheduler(f"grace_period: 60s\njobs:\n  work: {{every: 1s, command: {py(body)}}}\n")
    scheduler.wait_for(lambda: "work: started" in scheduler.stderr, message="the first run to start")
    started = time.monotonic()
    assert scheduler.stop(signal.SIGTERM) == 0
    assert (
        time.monotonic() - started < 30
    )  # when the 1.5 s run ended, not at the end of the 60 s grace period
    runs = scheduler.records("run", "work")
    assert len(runs) == 1
    assert runs[0]["status"] == "passed"
    assert "finished cleanly" in Path(runs[0]["output"]).read_text()
    assert [r["event"] for r in scheduler.records()][-2:] == ["run", "stopped"]
    assert scheduler.records("stop-requested")[0]["signal"] == "SIGTERM"


def test_ctrl_c_after_the_grace_period_kills_the_run_and_exits_0(start_scheduler, project):
    body = "import time; time.sleep(60)"
    scheduler = start_scheduler(f"grace_period: 1s\njobs:\n  long: {{every: 1s, command: {py(body)}}}\n")
    scheduler.wait_for(lambda: "long: started" in scheduler.stderr, message="the run to start")
    started = time.monotonic()
    assert scheduler.stop(signal.SIGINT) == 0
    assert time.monotonic() - started < 1 + 20  # the 1 s grace period, far before the run's 60 s sleep
    (run,) = scheduler.records("run", "long")
    assert run["status"] == "stopped"
    assert run["exit_code"] == -signal.SIGTERM
    assert "still running at shutdown, killing its process group" in scheduler.stderr


def test_wake_up_after_sleep_runs_a_missed_job_once(start_scheduler, project):
    # The job is due a few seconds after the start; on a loaded machine the scheduler may start after that,
    # so a late start is retried with a longer lead (the behaviour under test needs it asleep at the due time).
    for lead in (4, 10, 30):
        due = (datetime.now(UTC) + timedelta(seconds=lead)).replace(microsecond=0)
        scheduler = start_scheduler(
            f"jobs:\n  daily: {{every: day, at: '{due:%H:%M:%S}', command: {py('pass')}}}\n"
        )
        scheduler.wait_for(partial(scheduler.records, "started"), message="the scheduler to start")
        if datetime.now(UTC) < due - timedelta(seconds=0.5):
            break
        scheduler.process.kill()
        scheduler.process.wait(10)
        scheduler.log.unlink()
    else:
        pytest.fail("the scheduler started too slowly for this test, even with a 30 s lead")
    scheduler.send(signal.SIGSTOP)  # the machine "sleeps" across the due time
    time.sleep((due - datetime.now(UTC)).total_seconds() + 1.5)
    scheduler.send(signal.SIGCONT)
    scheduler.wait_for(lambda: scheduler.records("run", "daily"), message="the run after wake-up")
    time.sleep(0.5)
    assert scheduler.stop() == 0
    (run,) = scheduler.records("run", "daily")
    assert datetime.fromisoformat(run["scheduled"]) == due
    assert datetime.fromisoformat(run["started"]) >= due + timedelta(seconds=1.4)
