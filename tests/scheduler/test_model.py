"""The schedule file: the shipped example loads; every mistake is reported with file, line, key and fix."""

from __future__ import annotations

import shutil
import sys
from datetime import time
from pathlib import Path

import pytest

from opsverify.run import pytest_command
from opsverify.scheduler.calendar import Calendar, Interval
from opsverify.scheduler.load import load_schedule
from opsverify.scheduler.model import ScheduleError
from tests.conftest import REPO
from tests.scheduler.conftest import error_of


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder with targets/prod.yaml, the way `opsverify schedule` finds targets."""
    (tmp_path / "targets").mkdir()
    (tmp_path / "targets" / "prod.yaml").write_text("target: prod\n")
    return tmp_path


def write(project: Path, text: str) -> Path:
    path = project / "schedule.yaml"
    path.write_text(text)
    return path


def test_shipped_example_loads(project):
    shutil.copy(REPO / "ci" / "schedule.yaml", project / "schedule.yaml")
    schedule = load_schedule(project / "schedule.yaml", cwd=project)
    assert list(schedule.jobs) == [
        "nightly-drill",
        "checklist",
        "weekly-review",
        "gate-probe",
        "monthly-restore-test",
    ]
    drill = schedule.jobs["nightly-drill"]
    target = project / "targets" / "prod.yaml"
    assert drill.argv == tuple(pytest_command("dr", [str(target)], cwd=project))  # what `opsverify run` runs
    assert drill.argv[:3] == (sys.executable, "-m", "pytest")
    assert drill.argv[3:7] == (f"--rootdir={project}", "-m", "dr", f"--target={target}")
    assert drill.spec.timeout == 3 * 3600
    assert drill.spec.catch_up == 6 * 3600
    assert isinstance(drill.timing, Calendar)
    assert drill.timing.zone.key == "Europe/Berlin"
    checklist = schedule.jobs["checklist"].timing
    assert isinstance(checklist, Calendar)
    assert checklist.times == (time(9), time(13), time(18))
    gate = schedule.jobs["gate-probe"]
    assert gate.timing == Interval(30)
    assert gate.argv[-3:] == ("-n", "2", "-q")
    assert schedule.log == project / "reports" / "scheduler.jsonl"


def test_several_targets_and_tiers_make_one_pytest_command(project):
    (project / "targets" / "staging.yaml").write_text("target: staging\n")
    schedule = load_schedule(
        write(project, "jobs:\n  both: {every: 1h, target: [prod, staging], tiers: [smoke, daily]}\n"),
        cwd=project,
    )
    argv = schedule.jobs["both"].argv
    targets = [f"--target={project / 'targets' / name}.yaml" for name in ("prod", "staging")]
    assert argv[1:8] == ("-m", "pytest", f"--rootdir={project}", "-m", "smoke or daily", *targets)


def test_a_job_without_tiers_runs_every_check_with_names_from_its_targets_dir(project):
    (project / "elsewhere").mkdir()
    (project / "elsewhere" / "edge.yaml").write_text("target: edge\n")
    schedule = load_schedule(
        write(project, "jobs:\n  all: {every: 1h, target: edge, args: [--targets-dir, elsewhere]}\n"),
        cwd=project,
    )
    argv = schedule.jobs["all"].argv
    assert argv[3:5] == (f"--rootdir={project}", f"--target={project / 'elsewhere' / 'edge.yaml'}")
    assert "-m" not in argv[3:]
    assert argv[-2:] == ("--targets-dir", "elsewhere")


def test_command_job_and_defaults(project):
    schedule = load_schedule(
        write(project, "jobs:\n  backup: {every: weekday, at: '23:15', command: 'sh -c \"echo hi\"'}\n"),
        cwd=project,
    )
    job = schedule.jobs["backup"]
    assert job.argv == ("sh", "-c", "echo hi")
    assert job.timing.describe() == "every weekday at 23:15 (UTC)"
    assert schedule.model.grace_period == 120
    assert job.spec.timeout == 3600
    assert job.spec.catch_up == 0


def test_disabled_jobs_are_not_scheduled(project):
    schedule = load_schedule(
        write(
            project,
            "jobs:\n  a: {every: 1h, command: ['true']}\n  b: {every: 1h, command: ['true'], enabled: false}\n",
        ),
        cwd=project,
    )
    assert list(schedule.jobs) == ["a"]
    with pytest.raises(ScheduleError, match="job 'b' is disabled"):
        schedule.job("b")
    with pytest.raises(ScheduleError, match="no job 'aa'; did you mean 'a'"):
        schedule.job("aa")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "jobs:\n  drill:\n    every: day\n    at: '02:00'\n    target: prod\n    tier: [dr]\n",
            "schedule.yaml:6: jobs.drill.tier: unknown key 'tier'; remove it or fix its spelling (did you mean 'tiers'?)",
        ),
        (
            "jobs:\n  checklist:\n    every: day\n    at: [09:00, 13:00]\n    target: prod\n",
            "schedule.yaml:4: jobs.checklist.at: 13:00 was read by YAML as the base-60 number 780; "
            'quote it: at: ["09:00", "13:00"]',
        ),
        (
            "jobs:\n  drill: {every: day, target: prod}\n",
            'schedule.yaml:2: jobs.drill: `every: day` needs the time of day: add at: "02:00"',
        ),
        (
            "jobs:\n  probe:\n    every: 30s\n    at: '02:00'\n    target: prod\n",
            "schedule.yaml:4: jobs.probe.at: `at` needs a calendar `every`",
        ),
        (
            "timezone: Europe/Berln\njobs:\n  a: {every: 1h, target: prod}\n",
            "schedule.yaml:1: timezone: unknown time zone 'Europe/Berln'; did you mean 'Europe/Berlin'?",
        ),
        (
            "jobs:\n  a: {every: dayly, at: '01:00', target: prod}\n",
            "schedule.yaml:2: jobs.a.every: expected a duration like 30s, 15m or 6h, or one of day, weekday, "
            "weekdays, weekend, monday, tuesday, wednesday, thursday, friday, saturday, sunday, month; got 'dayly' "
            "(did you mean 'day'?)",
        ),
        (
            "jobs:\n  a: {every: [monday, funday], at: '01:00', target: prod}\n",
            "schedule.yaml:2: jobs.a.every: unknown day 'funday'",
        ),
        (
            "jobs:\n  a: {every: 1h, target: prod, command: [echo]}\n",
            "jobs.a.command: give either `command` or a pytest run (target), not both",
        ),
        (
            "jobs:\n  a: {every: 1h, tiers: [daily]}\n",
            "jobs.a: a job runs `target: NAME` (pytest --target NAME) or `command: [...]`",
        ),
        (
            "jobs:\n  a: {every: 1h, target: prod, tiers: [nightly]}\n",
            "schedule.yaml:2: jobs.a.tiers[0]: input should be 'smoke', 'daily'",
        ),
        (
            "jobs:\n  a: {every: day, at: '25:00', target: prod}\n",
            'jobs.a.at: expected a 24-hour time like "02:00"',
        ),
        (
            "jobs:\n  a: {every: day, at: '01:00', day_of_month: 3, target: prod}\n",
            "jobs.a.day_of_month: `day_of_month` applies to `every: month` only",
        ),
        (
            "jobs:\n  a: {every: 1h, target: prod, timeout: soon}\n",
            "jobs.a.timeout: expected a duration like 30s",
        ),
        ("jobs:\n  a: {every: 0.2s, target: prod}\n", "jobs.a.every: an interval must be at least 1s"),
        (
            "jobs:\n  a: {target: prod}\n",
            "schedule.yaml:2: jobs.a.every: required key 'every' is missing; add `every: day` with",
        ),
        (
            "jobs:\n  nightly drill: {every: 1h, target: prod}\n",
            "jobs: job name 'nightly drill': use letters, digits",
        ),
        ("jobs: {}\n", "schedule.yaml:1: jobs: dictionary should have at least 1 item"),
        ("timezone: UTC\n", "required key 'jobs' is missing"),
        (
            "jbos:\n  a: {every: 1h, target: prod}\n",
            "unknown key 'jbos'; remove it or fix its spelling (did you mean 'jobs'?)",
        ),
        ("jobs:\n  a: {every: 1h, target: prd}\n", "schedule.yaml:2: jobs.a.target: target 'prd' not found"),
        ("jobs:\n  a: {every: 1h, target: [prod, nope.yaml]}\n", "schedule.yaml:2: jobs.a.target[1]: "),
        (
            "jobs:\n  a: {every: 1h, target: prod}\n  a: {every: 2h, target: prod}\n",
            "schedule.yaml:3: jobs.a: duplicate key",
        ),
        ("jobs:\n  a: {every: 1h, target: prod\n", "schedule.yaml:3: invalid YAML"),
        ("- a\n- b\n", "a schedule file is a mapping with a `jobs:` section"),
        (
            "jobs:\n  a: {every: 1h, command: ['true'], enabled: false}\n",
            "every job is disabled; nothing to schedule",
        ),
    ],
)
def test_mistakes_name_file_line_key_and_fix(project, text, expected):
    assert expected in error_of(project, text)


def test_several_mistakes_are_reported_together(project):
    message = error_of(project, "timezone: Mars/Base\njobs:\n  a: {every: 1h, target: prod, colour: red}\n")
    assert message.startswith(str(project / "schedule.yaml") + ": 2 problems in the schedule file:")
    assert "schedule.yaml:1: timezone: unknown time zone 'Mars/Base'" in message
    assert "schedule.yaml:3: jobs.a.colour: unknown key 'colour'" in message


def test_missing_file_and_bad_workdir(project):
    with pytest.raises(ScheduleError, match="schedule file not found; pass --config PATH"):
        load_schedule(project / "nope.yaml")
    assert "workdir: " in error_of(
        project, "workdir: no-such-dir\njobs:\n  a: {every: 1h, command: ['true']}\n"
    )


def test_targets_dir_from_job_env_and_args(project):
    (project / "elsewhere").mkdir()
    (project / "elsewhere" / "edge.yaml").write_text("target: edge\n")
    text = (
        "jobs:\n"
        "  by-env: {every: 1h, target: edge, env: {OPSVERIFY_TARGETS_DIR: elsewhere}}\n"
        "  by-arg: {every: 1h, target: edge, args: [--targets-dir, elsewhere]}\n"
        "  by-path: {every: 1h, target: elsewhere/edge.yaml}\n"
    )
    assert set(load_schedule(write(project, text), cwd=project).jobs) == {"by-env", "by-arg", "by-path"}


def test_the_issue_example_loads_as_written(project):
    text = """\
timezone: Europe/Berlin
log: reports/scheduler.jsonl
jobs:
  nightly-drill: {every: day, at: "02:00", target: prod, tiers: [dr], timeout: 3h, catch_up: 6h}
  checklist: {every: day, at: ["09:00", "13:00", "18:00"], target: prod, tiers: [daily]}
  gate-probe: {every: 30s, target: prod, tiers: [smoke], args: ["-n", "2"]}
"""
    schedule = load_schedule(write(project, text), cwd=project)
    assert [job.timing.describe() for job in schedule.jobs.values()] == [
        "every day at 02:00 (Europe/Berlin)",
        "every day at 09:00, 13:00, 18:00 (Europe/Berlin)",
        "every 30s",
    ]
    prod = project / "targets" / "prod.yaml"
    assert schedule.jobs["gate-probe"].argv[4:7] == ("-m", "smoke", f"--target={prod}")
    assert schedule.jobs["gate-probe"].argv[-2:] == ("-n", "2")
