"""`opsverify demo` end to end: deployment up, `pytest -m daily --target demo` passes, reports, teardown."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import REPO


def run_demo(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OPSVERIFY_TARGET")}
    environment |= {"OPSVERIFY_REPORTS_DIR": str(tmp_path / "reports"), "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-m", "opsverify.cli", "demo", "--home", str(tmp_path / "demo"), *args]
    return subprocess.run(
        command, cwd=REPO, env=environment, capture_output=True, text=True, timeout=240, check=False
    )


def test_demo_runs_the_daily_tier_and_stops(tmp_path: Path) -> None:
    completed = run_demo(tmp_path)
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert "running: pytest -m daily --target demo" in output
    assert "opsverify demo: exit code 0: all checks passed" in output
    reports = tmp_path / "reports"
    assert f"JUnit XML       {reports / 'junit.xml'}" in output
    assert f"Allure results  {reports / 'allure-results'}" in output
    assert output.rstrip().endswith("opsverify demo: deployment stopped")

    cases = ET.parse(reports / "junit.xml").getroot().iter("testcase")  # noqa: S314 - our own report
    outcomes = {"failure", "error", "skipped"}
    passed = {case.get("name") for case in cases if not any(child.tag in outcomes for child in case)}
    assert {"http:healthcheck", "http:metrics", "http:version"} <= passed
    assert any((reports / "allure-results").glob("*-result.json"))

    environment = (tmp_path / "demo" / "demo.env").read_text()
    assert f"export DEMO_DATA={tmp_path / 'demo' / 'data'}" in environment
    port = int(re.search(r"DEMO_URL=http://127\.0\.0\.1:(\d+)", environment)[1])  # type: ignore[index]
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0  # the service is down again


def failed_checks(junit: Path) -> set[str]:
    """The check ids (`http:healthcheck`) of the failed test cases of a JUnit report."""
    cases = ET.parse(junit).getroot().iter("testcase")  # noqa: S314 - our own report
    failed = [case.get("name", "") for case in cases if case.find("failure") is not None]
    return {re.sub(r"^[^\[]*\[(.*)\]$", r"\1", name) for name in failed}


@pytest.mark.parametrize(
    ("args", "check", "message"),
    [
        (["--unhealthy"], "http:healthcheck", "status: expected 200, got 503"),
        (
            ["--unhealthy", "stale-backup"],
            "backups:index-backup",
            "expected at most 26h old (max_age, the RPO gate), got 2d old",
        ),
        (["--unhealthy", "error-burst"], "logs:app-errors", "12 lines of level ERROR or above"),
    ],
    ids=["healthcheck", "stale-backup", "error-burst"],
)
def test_each_unhealthy_state_fails_exactly_its_check(
    tmp_path: Path, args: list[str], check: str, message: str
) -> None:
    completed = run_demo(tmp_path, *args)
    output = completed.stdout + completed.stderr
    assert completed.returncode == 1, output
    assert failed_checks(tmp_path / "reports" / "junit.xml") == {check}, output
    assert f"expect {check} to fail" in output
    assert f"FAILED {check}" in output
    assert message in output


def test_demo_exits_with_pytests_code(tmp_path: Path) -> None:
    completed = run_demo(tmp_path, "--", "-k", "no-such-check")
    assert completed.returncode == 5, completed.stdout + completed.stderr
    assert "exit code 5: no checks were selected" in completed.stdout
