"""Notification hooks in Python: the pytest hookspecs and the `python: {callable: ...}` channel."""

from __future__ import annotations

import json

import pytest

from tests.notify.e2e import Service, target_yaml

CONFTEST = """
import json, time
from pathlib import Path

OUT = Path(__file__).with_name("hooks.jsonl")


def pytest_opsverify_check_failed(check, problems, decision):
    with OUT.open("a") as out:
        out.write(json.dumps({"hook": "failed", "id": check.id, "decision": decision,
                              "problems": [p.subject for p in problems]}) + "\\n")


def pytest_opsverify_run_finished(summary, decisions):
    with OUT.open("a") as out:
        out.write(json.dumps({"hook": "finished", "run": summary.run_id, "decisions": decisions}) + "\\n")
"""

BAD_PLUGIN = """
import time


def pytest_opsverify_check_failed(check):
    raise RuntimeError("ticket system down")


def pytest_opsverify_run_finished(summary):
    time.sleep(120)
"""

ALERTS = """
import json
from pathlib import Path


def send(message):
    with Path(__file__).with_name("channel.jsonl").open("a") as out:
        out.write(json.dumps(message.as_json()) + "\\n")


def broken(message):
    raise ValueError("pager API refused")
"""


@pytest.fixture
def service(http_server) -> Service:
    return Service(http_server).install()


def lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_hooks_receive_the_failures_with_the_channels_decisions(service, run_checks, tmp_path) -> None:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    text = target_yaml(service.server.url, "  routes:\n    - {match: {status: failed}, to: [ops-slack]}\n")
    for _ in range(2):
        run = run_checks(text)
        assert run.returncode == 1, run.output
    calls = lines(tmp_path / "hooks.jsonl")
    failed = [c for c in calls if c["hook"] == "failed"]
    assert [(c["id"], c["decision"]) for c in failed] == [("http:api", "new"), ("http:api", "ongoing")]
    assert failed[0]["problems"] == ["status"]
    finished = [c for c in calls if c["hook"] == "finished"]
    assert finished[-1]["decisions"]["shop-prod/http:api"] == "ongoing"


def test_a_hook_that_raises_or_hangs_is_reported_and_changes_nothing(service, run_checks, tmp_path) -> None:
    (tmp_path / "conftest.py").write_text(BAD_PLUGIN)
    service.healthy = False
    run = run_checks(
        target_yaml(service.server.url, "  routes:\n    - {to: [ops-slack]}\n"),
        env={"OPSVERIFY_HOOK_TIMEOUT": "1"},
    )
    assert run.returncode == 1, run.output  # the failing check's verdict, nothing else
    assert "ticket system down" in run.output
    assert "did not return within 1s" in run.output
    assert len(service.slack_messages()) == 1
    # the hanging hook (a 120 s sleep) was left behind at its 1 s timeout: the bound leaves a wide margin for load
    assert run.seconds < 60


def test_python_channel_gets_the_message_and_a_raising_one_is_a_failed_delivery(
    service, run_checks, tmp_path
) -> None:
    (tmp_path / "alerts.py").write_text(ALERTS)
    service.healthy = True
    text = target_yaml(
        service.server.url,
        "    mine: {python: {callable: 'alerts:send'}}\n"
        "    bad: {python: {callable: 'alerts:broken'}}\n"
        "  routes:\n    - {match: {status: completed}, to: [mine, bad]}\n",
    )
    run = run_checks(text, env={"PYTHONPATH": str(tmp_path)})
    assert run.returncode == 0, run.output
    (message,) = lines(tmp_path / "channel.jsonl")
    assert message["status"] == "completed"
    assert message["counts"]["passed"] == 2
    assert "NOTIFY FAILED bad (python)" in run.output
    assert "pager API refused" in run.output


def test_python_channel_that_cannot_be_imported_is_reported(service, run_checks) -> None:
    text = target_yaml(
        service.server.url,
        "    mine: {python: {callable: 'nowhere.module:send'}}\n  routes:\n    - {to: [mine]}\n",
    )
    run = run_checks(text)
    assert run.returncode == 1
    assert "python.callable" in run.output
    assert "cannot import nowhere.module" in run.output


def test_python_channel_reference_must_name_a_function(run_checks) -> None:
    text = target_yaml(
        "http://127.0.0.1:9", "    mine: {python: {callable: 'alerts'}}\n  routes: [{to: [mine]}]\n"
    )
    run = run_checks(text)
    assert run.returncode == 4, run.output
    assert "package.module:function" in run.output
