"""Heartbeat pings: Healthchecks.io-style URLs, bodies, retries, and a monitor that is down."""

from __future__ import annotations

from opsverify.config.notify import Heartbeat
from opsverify.notify.heartbeat import ping, ping_url
from tests.conftest import refused_port
from tests.notify.conftest import sequence


def test_ping_urls() -> None:
    assert ping_url("https://hc-ping.com/abc", "start") == "https://hc-ping.com/abc/start"
    assert ping_url("https://hc-ping.com/abc/", "fail") == "https://hc-ping.com/abc/fail"
    assert ping_url("https://hc-ping.com/abc", "success") == "https://hc-ping.com/abc"
    assert (
        ping_url("https://hc.example/ping/k/slug?create=1", "fail")
        == "https://hc.example/ping/k/slug/fail?create=1"
    )


def test_fail_ping_carries_the_summary_and_is_retried(http_server) -> None:
    http_server.routes["/ping/uuid-1/fail"] = sequence((502, {}, b""), (200, {}, b"OK"))
    record = ping(
        Heartbeat(url=f"{http_server.url}/ping/uuid-1"), "fail", "prod", "1 failed", sleep=lambda _: None
    )
    assert record.status == "sent"
    assert record.attempts == 2
    assert record.channel == "heartbeat/fail"
    assert [r["body"] for r in http_server.requests] == [b"1 failed", b"1 failed"]


def test_monitor_down_is_a_record_not_an_exception() -> None:
    heartbeat = Heartbeat(url=f"http://127.0.0.1:{refused_port()}/ping/secret-uuid-123", retries=1)
    record = ping(heartbeat, "start", "prod", sleep=lambda _: None)
    assert record.status == "failed"
    assert record.attempts == 2
    assert "connection refused" in (record.error or "")
    assert "secret-uuid" not in (record.error or "")
