"""Delivery: retries with backoff on 429/5xx honouring Retry-After, a receiver that is down, the journal."""

from __future__ import annotations

import json
import time

from opsverify.config.notify import SlackSettings, WebhookSettings
from opsverify.notify.delivery import MAX_RETRY_WAIT, append_journal, deliver, deliver_all
from opsverify.notify.httpsend import parse_retry_after
from opsverify.notify.message import Message
from opsverify.notify.slack import SlackChannel
from opsverify.notify.webhook import WebhookChannel
from opsverify.report.summary import RunSummary
from opsverify.report.terminal import summary_lines
from tests.conftest import refused_port
from tests.notify.conftest import SLACK_OK, result, sequence


def message() -> Message:
    return Message(
        status="failed",
        target="prod",
        tiers=("smoke",),
        route="routes[0]",
        failures=[result("api")],
        counts={"total": 1, "passed": 0, "failed": 1, "skipped": 0},
        run_id="r",
    )


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def test_429_then_200_is_retried_after_retry_after(http_server) -> None:
    http_server.routes["/hook"] = sequence(
        (429, {"Retry-After": "1"}, b"rate_limited"), (503, {}, b"busy"), SLACK_OK
    )
    channel = SlackChannel("s", SlackSettings(webhook_url=f"{http_server.url}/hook", backoff=0.01))
    started = time.monotonic()
    record = deliver(channel, message(), "prod", "routes[0]")
    assert record.status == "sent"
    assert record.attempts == 3
    assert record.error is None
    assert len(http_server.requests) == 3
    assert time.monotonic() - started >= 1.0  # Retry-After: 1 was honoured for real


def test_backoff_doubles_and_retry_after_wins_but_is_capped(http_server) -> None:
    http_server.routes["/a"] = (500, {}, b"")
    sleeps = Sleeps()
    record = deliver(
        WebhookChannel("w", WebhookSettings(url=f"{http_server.url}/a", retries=3, backoff=2)),
        message(),
        "prod",
        "r",
        sleeps,
    )
    assert record.status == "failed"
    assert record.attempts == 4
    assert sleeps == [2, 4, 8]
    assert "HTTP 500" in (record.error or "")
    http_server.routes["/b"] = (429, {"Retry-After": "3600"}, b"")
    sleeps.clear()
    deliver(
        WebhookChannel("w", WebhookSettings(url=f"{http_server.url}/b", retries=1)),
        message(),
        "p",
        "r",
        sleeps,
    )
    assert sleeps == [MAX_RETRY_WAIT]


def test_permanent_error_is_not_retried(http_server) -> None:
    http_server.routes["/gone"] = (404, {}, b"no_service")
    record = deliver(
        SlackChannel("s", SlackSettings(webhook_url=f"{http_server.url}/gone")), message(), "p", "r"
    )
    assert record.status == "failed"
    assert record.attempts == 1
    assert record.error is not None
    assert "HTTP 404: no_service" in record.error


def test_receiver_down_fails_after_retries_and_others_still_send(http_server) -> None:
    http_server.routes["/ok"] = SLACK_OK
    down_url = f"http://127.0.0.1:{refused_port()}/services/T/B/token-abcdef"
    down = SlackChannel("down", SlackSettings(webhook_url=down_url, retries=2, backoff=0.01))
    up = SlackChannel("up", SlackSettings(webhook_url=f"{http_server.url}/ok"))
    down_record, up_record = deliver_all([(down, message(), "p", "r"), (up, message(), "p", "r")])
    assert down_record.status == "failed"
    assert down_record.attempts == 3
    assert "connection refused" in (down_record.error or "")
    assert "token-abcdef" not in (down_record.error or "")  # errors name host:port, never the path
    assert up_record.status == "sent"


def test_retry_after_forms() -> None:
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now=1445412500.0) == 10.0


def test_journal_lines(tmp_path) -> None:
    sleeps = Sleeps()
    record = deliver(
        WebhookChannel("w", WebhookSettings(url=f"http://127.0.0.1:{refused_port()}/x", retries=1)),
        message(),
        "prod",
        "routes[0]",
        sleeps,
    )
    journal = tmp_path / "notifications.jsonl"
    append_journal(journal, [record])
    append_journal(journal, [record])
    lines = [json.loads(line) for line in journal.read_text().splitlines()]
    assert len(lines) == 2
    assert {k: lines[0][k] for k in ("channel", "type", "status", "attempts", "route")} == {
        "channel": "w",
        "type": "webhook",
        "status": "failed",
        "attempts": 2,
        "route": "routes[0]",
    }
    assert "connection refused" in lines[0]["error"]


def test_the_terminal_line_says_what_was_sent(http_server) -> None:
    """`notified hook (webhook) [routes[0]]: reminder, sent`, not only `sent`: new, reminder or resolved."""
    http_server.routes["/hook"] = (200, {}, b"ok")
    channel = WebhookChannel("hook", WebhookSettings(url=f"{http_server.url}/hook"))
    new = message()
    new.new = frozenset({"http:api"})
    reminder = message()  # its failure was alerted before: nothing new in it
    resolved = message()
    resolved.status, resolved.failures, resolved.resolved = "resolved", [], [result("api")]
    records = [deliver(channel, sent, "prod", "routes[0]") for sent in (new, reminder, resolved)]
    assert [record.event for record in records] == ["failed", "reminder", "resolved"]
    lines = [line.text for line in summary_lines(RunSummary("r", 0.0), records, [], [])]
    assert [line for line in lines if "notified" in line] == [
        "  notified hook (webhook) [routes[0]]: failed, sent",
        "  notified hook (webhook) [routes[0]]: reminder, sent",
        "  notified hook (webhook) [routes[0]]: resolved, sent",
    ]
