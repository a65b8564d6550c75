"""Catch-up after the scheduler (or the machine) was down: remembered due times, the catch_up window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from opsverify.scheduler.load import load_schedule
from opsverify.scheduler.state import StateStore
from tests.scheduler.conftest import py


def test_a_run_missed_while_down_runs_once_within_catch_up_and_is_logged_missed_beyond(
    start_scheduler, project
):
    text = (
        "jobs:\n"
        f"  drill: {{every: day, at: '02:00', catch_up: 6h, command: {py('pass')}}}\n"
        f"  report: {{every: day, at: '02:00', catch_up: 1h, command: {py('pass')}}}\n"
        f"  fresh: {{every: day, at: '02:00', catch_up: 6h, command: {py('pass')}}}\n"
        f"  changed: {{every: day, at: '03:00', catch_up: 6h, command: {py('pass')}}}\n"
    )
    (project / "schedule.yaml").write_text(text)
    schedule = load_schedule(project / "schedule.yaml", cwd=project)
    state = StateStore(schedule.state_dir)
    now = datetime.now(UTC)
    # Down since before the due times: drill is 2 h late (within 6 h), report 2 h late (beyond 1 h).
    for name in ("drill", "report"):
        state.update(name, fingerprint=schedule.jobs[name].fingerprint, next_due=now - timedelta(hours=2))
    # A due time remembered for another timing (the file was edited) is ignored.
    state.update("changed", fingerprint="every day at 01:00 (UTC)", next_due=now - timedelta(hours=1))

    scheduler = start_scheduler(text)
    scheduler.wait_for(
        lambda: scheduler.records("run", "drill") and scheduler.records("missed"), message="catch-up"
    )
    assert scheduler.stop() == 0

    (drill,) = scheduler.records("run", "drill")
    assert drill["trigger"] == "catch-up"
    assert drill["status"] == "passed"
    assert datetime.fromisoformat(drill["scheduled"]) < now - timedelta(hours=1)
    (missed,) = scheduler.records("missed")
    assert missed["job"] == "report"
    assert 7100 < missed["late_s"] < 7300
    assert not scheduler.records("run", "report")
    assert not scheduler.records("run", "fresh")
    assert not scheduler.records("run", "changed")
    assert "report: missed the run due" in scheduler.stderr
    assert "beyond catch_up 60.0m" in scheduler.stderr

    # The next due times were remembered for the next start.
    remembered = StateStore(schedule.state_dir).load()
    for name in ("drill", "report", "fresh", "changed"):
        assert datetime.fromisoformat(remembered[name]["next_due"]) > now
    assert remembered["drill"]["last_status"] == "passed"
    assert remembered["drill"]["last_exit_code"] == 0


def test_an_interval_job_keeps_its_cadence_across_a_restart(start_scheduler, project):
    text = f"jobs:\n  probe: {{every: 1h, command: {py('pass')}}}\n"
    (project / "schedule.yaml").write_text(text)
    schedule = load_schedule(project / "schedule.yaml", cwd=project)
    due = datetime.now(UTC) + timedelta(minutes=20)
    StateStore(schedule.state_dir).update("probe", fingerprint="every 1h", next_due=due)
    scheduler = start_scheduler(text)
    scheduler.wait_for(lambda: scheduler.records("started"), message="start")
    assert scheduler.stop() == 0
    assert not scheduler.records("run")
    assert StateStore(schedule.state_dir).remembered_due("probe", "every 1h") == due
