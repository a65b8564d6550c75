"""`opsverify schedule --list` on a checkout without the schedule's target files (a fresh clone): it lists every
job with its next run times, marks each missing target with `!` and exits 1; starting the scheduler still
refuses the file with exit 4. Run through the real CLI."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from tests.conftest import REPO
from tests.scheduler.conftest import run_cli

SHIPPED = REPO / "ci" / "schedule.yaml"
JOBS = ("nightly-drill", "checklist", "weekly-review", "gate-probe", "monthly-restore-test")


def fresh_clone(project: Path) -> Path:
    """The shipped schedule file, and only the demo target, as in a fresh clone of the repository."""
    (project / "ci").mkdir()
    shutil.copy(SHIPPED, project / "ci" / "schedule.yaml")
    shutil.copy(REPO / "targets" / "demo.yaml", project / "targets" / "demo.yaml")
    return project


def test_the_shipped_schedule_lists_on_a_fresh_clone(project: Path) -> None:
    fresh_clone(project)
    result = run_cli(project, "--list", "--config", "ci/schedule.yaml")
    assert result.returncode == 1, result.stderr
    assert result.stderr == ""
    out = result.stdout
    assert "schedule ci/schedule.yaml: 5 jobs, time zone Europe/Berlin" in out
    for job in JOBS:
        assert f"\n{job}: every " in out
        assert (
            f"  ! target 'prod' not found: no targets/prod.yaml (targets/ has: demo); create "
            f"targets/prod.yaml, or change jobs.{job}.target at ci/schedule.yaml:"
        ) in out
    assert out.count("  next ") == 15
    assert out.rstrip().endswith(
        "! missing here: targets/prod.yaml (named by 5 jobs). `opsverify schedule` refuses to start until "
        "every target file exists (exit 4); create it, or change the jobs' `target:`"
    )
    assert not (project / "reports").exists(), "--list runs nothing and writes nothing"


def test_starting_the_scheduler_still_refuses_a_missing_target(project: Path) -> None:
    fresh_clone(project)
    for args in ((), ("--once", "checklist")):
        result = run_cli(project, "--config", "ci/schedule.yaml", *args, timeout=30)
        assert result.returncode == 4
        assert re.match(
            r"error: ci/schedule\.yaml:\d+: jobs\.nightly-drill\.target: target 'prod' not found",
            result.stderr,
        ), result.stderr
    assert not (project / "reports").exists()


def test_list_exits_0_once_the_targets_exist(project: Path) -> None:
    fresh_clone(project)
    (project / "targets" / "prod.yaml").write_text("target: prod\n")
    result = run_cli(project, "--list", "--config", "ci/schedule.yaml")
    assert result.returncode == 0, result.stderr
    assert "!" not in result.stdout


def test_each_missing_name_and_path_is_marked_on_its_job(project: Path) -> None:
    (project / "targets" / "prod.yaml").write_text("target: prod\n")
    (project / "schedule.yaml").write_text(
        "jobs:\n"
        "  fleet: {every: 1h, target: [prod, api, elsewhere/web.yaml]}\n"
        "  fine: {every: 1h, target: prod}\n"
    )
    result = run_cli(project, "--list")
    assert result.returncode == 1, result.stderr
    fleet, fine = result.stdout.split("\nfleet: ")[1].split("\nfine: ")
    assert (
        "  ! target 'api' not found: no targets/api.yaml (targets/ has: prod); create targets/api.yaml, "
        "or change jobs.fleet.target[1] at schedule.yaml:2"
    ) in fleet
    assert (
        "  ! target file elsewhere/web.yaml not found: no elsewhere/web.yaml (targets/ has: prod); create "
        "elsewhere/web.yaml, or change jobs.fleet.target[2] at schedule.yaml:2"
    ) in fleet
    assert "!" not in fine.split("\n\n")[0]
    assert "! missing here: elsewhere/web.yaml, targets/api.yaml (named by 1 job)" in result.stdout
