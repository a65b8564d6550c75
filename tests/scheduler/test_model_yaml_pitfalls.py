"""YAML 1.1 traps in a schedule file: unquoted `9:30` (a base-60 number) and tabs in the indentation."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsverify.scheduler.load import load_schedule
from tests.scheduler.conftest import error_of


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "targets").mkdir()
    (tmp_path / "targets" / "prod.yaml").write_text("target: prod\n")
    return tmp_path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "jobs:\n  checklist:\n    every: day\n    at: 9:30\n    target: prod\n",
            'schedule.yaml:4: jobs.checklist.at: 9:30 was read by YAML as the base-60 number 570; quote it: at: "9:30"',
        ),
        (
            "jobs:\n  drill: {every: day, at: '02:00', target: prod, timeout: 3:00}\n",
            "schedule.yaml:2: jobs.drill.timeout: 3:00 was read by YAML as the base-60 number 180; write 3h if you "
            "mean hours:minutes, or 3m if you mean minutes:seconds",
        ),
        (
            "jobs:\n  drill:\n    every: day\n    at: '02:00'\n    target: prod\n    catch_up: 6:00\n",
            "schedule.yaml:6: jobs.drill.catch_up: 6:00 was read by YAML as the base-60 number 360; write 6h",
        ),
        (
            "jobs:\n  probe: {every: 1:30, target: prod}\n",
            "schedule.yaml:2: jobs.probe.every: 1:30 was read by YAML as the base-60 number 90; write 1h30m if you "
            "mean hours:minutes, or 1m30s if you mean minutes:seconds",
        ),
        (
            "grace_period: 2:00\njobs:\n  probe: {every: 1h, target: prod}\n",
            "schedule.yaml:1: grace_period: 2:00 was read by YAML as the base-60 number 120; write 2h",
        ),
        (
            "jobs:\n  drill: {every: day, at: 25:00, target: prod}\n",
            'schedule.yaml:2: jobs.drill.at: expected a 24-hour time like "02:00" or "18:30:15", got 25:00',
        ),
        (
            "jobs:\n  drill:\n\tevery: 1h\n\ttarget: prod\n",
            "schedule.yaml:3: invalid YAML: line 3 is indented with a tab; YAML indentation must be spaces: "
            "replace the tab with spaces",
        ),
    ],
    ids=["at-9:30", "timeout-3:00", "catch_up-6:00", "every-1:30", "grace_period-2:00", "at-25:00", "tab"],
)
def test_yaml_pitfalls_are_named_with_their_fix(project: Path, text: str, expected: str) -> None:
    message = error_of(project, text)
    assert expected in message
    assert "Traceback" not in message


def test_plain_numbers_and_quoted_times_still_work(project: Path) -> None:
    path = project / "schedule.yaml"
    path.write_text(
        "grace_period: 30\njobs:\n  checklist: {every: day, at: ['9:30', 09:45], target: prod, timeout: 600}\n"
    )
    job = load_schedule(path, cwd=project).jobs["checklist"]
    assert job.spec.timeout == 600
    assert job.timing.describe() == "every day at 09:30, 09:45 (UTC)"
