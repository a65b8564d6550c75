"""Notifications from real runs (`pytest checks --target ...` in a subprocess) against local receivers."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.notify.e2e import HEARTBEAT, Service, target_yaml


@pytest.fixture
def service(http_server) -> Service:
    return Service(http_server).install()


def test_threshold_no_duplicates_and_resolved_over_runs(service, run_checks, tmp_path) -> None:
    text = target_yaml(
        service.server.url,
        "  routes:\n    - {match: {tiers: [smoke], status: failed}, to: [ops-slack]}\n"
        "  policy: {failure_threshold: 2, send_on_resolved: true}\n"
        f"  heartbeat: {{url: '{service.server.url}{HEARTBEAT}'}}\n",
    )
    outcomes = []
    said = []  # the terminal's line of each delivery: what went out, not only "sent"
    for healthy in (False, False, False, True, True):
        service.healthy = healthy
        service.clear()
        run = run_checks(text, "-m", "smoke")
        assert run.returncode == (0 if healthy else 1), run.output
        outcomes.append([m["text"] for m in service.slack_messages()])
        said.append([line.strip() for line in run.output.splitlines() if line.startswith("  notified ops-")])
        assert service.heartbeat_paths() == [
            f"{HEARTBEAT}/start",
            HEARTBEAT if healthy else f"{HEARTBEAT}/fail",
        ]
    assert outcomes == [
        [],  # first failure: below the threshold of 2
        ["[FAILED] shop-prod smoke: 1 of 2 checks failed"],
        [],  # still failing: no duplicate
        ["[RESOLVED] shop-prod smoke: 1 check recovered, all 2 checks pass"],
        [],
    ]
    sent = "notified ops-slack (slack) [routes[0]]"
    assert said == [[], [f"{sent}: failed, sent"], [], [f"{sent}: resolved, sent"], []]
    with sqlite3.connect(tmp_path / "reports" / "state" / "opsverify.db") as db:
        row = db.execute(
            "select failures, alerted_at from notify_state where target = 'shop-prod' and check_id = 'http:api'"
        ).fetchone()
    assert row == (0, None)
    journal = [
        json.loads(line) for line in (tmp_path / "reports" / "notifications.jsonl").read_text().splitlines()
    ]
    sent = [(j["channel"], j["subject"]) for j in journal if j["kind"] == "message"]
    assert [s for _, s in sent] == [o[0] for o in outcomes if o]


def test_failed_slack_message_names_the_failure_and_its_reason(service, run_checks) -> None:
    text = target_yaml(service.server.url, "  routes:\n    - {to: [ops-slack, ops-hook]}\n")
    run = run_checks(text)
    assert run.returncode == 1
    (message,) = service.slack_messages()
    sections = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    assert any("*http:api* · critical · new" in s and "status: expected 200, got 503" in s for s in sections)
    (hook,) = [json.loads(r["body"]) for r in service.posts("/hook")]
    assert hook["failures"][0]["id"] == "http:api"
    assert hook["counts"]["total"] == 2
    assert "notified ops-slack (slack) [routes[0]]: failed, sent" in run.output
    assert "FAILED http:api (critical): status: expected 200, got 503" in run.output


@pytest.mark.parametrize("workers", ["2", "4"])
def test_xdist_sends_exactly_one_message_per_route(service, run_checks, workers) -> None:
    text = target_yaml(
        service.server.url,
        "  routes:\n    - {match: {status: failed}, to: [ops-slack]}\n"
        "    - {match: {status: completed}, to: [ops-hook]}\n",
        extra_checks=6,
    )
    run = run_checks(text, "-n", workers)
    assert run.returncode == 1, run.output
    assert len(service.slack_messages()) == 1
    (summary,) = [json.loads(r["body"]) for r in service.posts("/hook")]
    counts = summary["counts"]  # hand-written checks in checks/ may add skipped tests: not counted here
    assert (counts["total"], counts["passed"], counts["failed"]) == (8, 7, 1)
    assert summary["title"] == "[COMPLETED] shop-prod smoke, daily: 7 of 8 checks passed, 1 failed"
    data = json.loads((run.reports / "summary.json").read_text())
    assert data["counts"]["failed"] == 1
    assert data["failures"][0]["reason"] == "status: expected 200, got 503"


def test_no_notify_and_env_switch_send_nothing(service, run_checks) -> None:
    text = target_yaml(
        service.server.url,
        f"  routes:\n    - {{to: [ops-slack]}}\n  heartbeat: {{url: '{service.server.url}{HEARTBEAT}'}}\n",
    )
    for args, env in ((("--no-notify",), None), ((), {"OPSVERIFY_NOTIFY": "0"})):
        service.clear()
        run = run_checks(text, *args, env=env)
        assert run.returncode == 1
        assert service.slack_messages() == []
        assert service.heartbeat_paths() == []
        assert "notifications: off" in run.output


def test_dry_run_prints_messages_and_keeps_state(service, run_checks, tmp_path) -> None:
    text = target_yaml(service.server.url, "  routes:\n    - {to: [ops-slack]}\n")
    run = run_checks(text, "--notify-dry-run")
    assert run.returncode == 1
    assert service.slack_messages() == []
    assert "notifications: dry run (--notify-dry-run): nothing was sent" in run.output
    assert "--- routes[0] -> ops-slack (slack) ---" in run.output
    assert '"text": "[FAILED] shop-prod smoke, daily: 1 of 2 checks failed"' in run.output
    with sqlite3.connect(tmp_path / "reports" / "state" / "opsverify.db") as db:
        assert db.execute("select count(*) from notify_state").fetchone() == (0,)
    # a real run afterwards still alerts: the dry run did not mark anything as sent
    run_checks(text)
    assert len(service.slack_messages()) == 1


def test_failing_channel_keeps_the_verdict_and_others_still_send(service, run_checks) -> None:
    service.healthy = True
    text = target_yaml(
        service.server.url,
        "    down-hook: {webhook: {url: 'http://127.0.0.1:9/hook', retries: 1, backoff: 0.01}}\n"
        "  routes:\n    - {match: {status: completed}, to: [down-hook, ops-slack]}\n",
    )
    run = run_checks(text)
    assert run.returncode == 0, run.output  # every check passed; the notifier's failure is reported only
    assert len(service.slack_messages()) == 1
    assert (
        "NOTIFY FAILED down-hook (webhook) [routes[0]] after 2 attempts: connection refused by 127.0.0.1:9 "
        in run.output
    )
    journal = [json.loads(line) for line in (run.reports / "notifications.jsonl").read_text().splitlines()]
    down = next(j for j in journal if j["channel"] == "down-hook")
    assert down["status"] == "failed"
    assert down["attempts"] == 2
    assert "connection refused" in down["error"]
