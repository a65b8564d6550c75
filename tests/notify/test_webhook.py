"""Webhook: the run summary as JSON, custom headers, HMAC-SHA256 signature of the exact body."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from opsverify.config.notify import WebhookSettings
from opsverify.notify.base import DeliveryError, RetryableError
from opsverify.notify.message import Message
from opsverify.notify.webhook import WebhookChannel
from tests.notify.conftest import result

KEY = "hmac-key-for-tests"


def message() -> Message:
    return Message(
        status="failed",
        target="prod",
        tiers=("dr",),
        route="drills",
        failures=[result("db-nightly", kind="restore", reason="restore: rto 4h exceeded")],
        resolved=[result("api", "passed")],
        new=frozenset({"restore:db-nightly"}),
        counts={"total": 3, "passed": 2, "failed": 1, "skipped": 0},
        run_id="r1",
        duration=60.0,
    )


def test_posts_summary_json_with_headers_and_signature(http_server) -> None:
    http_server.routes["/hooks/ops"] = (204, {}, b"")
    channel = WebhookChannel(
        "ops-hook",
        WebhookSettings(url=f"{http_server.url}/hooks/ops", headers={"X-Team": "ops"}, hmac_key=KEY),
    )
    channel.send(message())
    (request,) = http_server.requests
    body = request["body"]
    expected = "sha256=" + hmac.new(KEY.encode(), body, hashlib.sha256).hexdigest()
    assert request["headers"]["X-Opsverify-Signature"] == expected
    assert request["headers"]["X-Team"] == "ops"
    data = json.loads(body)
    assert data["status"] == "failed"
    assert data["target"] == "prod"
    assert data["route"] == "drills"
    assert data["title"] == "[FAILED] prod dr: 1 of 3 checks failed, 1 resolved"
    assert data["failures"][0]["id"] == "restore:db-nightly"
    assert data["failures"][0]["new"] is True
    assert data["failures"][0]["reason"] == "restore: rto 4h exceeded"
    assert [r["id"] for r in data["resolved"]] == ["http:api"]
    assert data["counts"] == {"total": 3, "passed": 2, "failed": 1, "skipped": 0}


def test_4xx_is_permanent_and_5xx_retryable(http_server) -> None:
    http_server.routes["/bad"] = (400, {}, b"bad payload")
    http_server.routes["/busy"] = (503, {"Retry-After": "7"}, b"")
    with pytest.raises(DeliveryError, match="HTTP 400: bad payload") as caught:
        WebhookChannel("a", WebhookSettings(url=f"{http_server.url}/bad")).send(message())
    assert not isinstance(caught.value, RetryableError)
    with pytest.raises(RetryableError, match="HTTP 503") as retry:
        WebhookChannel("b", WebhookSettings(url=f"{http_server.url}/busy")).send(message())
    assert retry.value.retry_after == 7.0


def test_short_hmac_key_is_rejected() -> None:
    with pytest.raises(ValueError, match="at least 8 characters"):
        WebhookSettings(url="https://example.com/hook", hmac_key="short")
