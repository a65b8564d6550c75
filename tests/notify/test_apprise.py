"""Apprise: an Apprise URL (json:// to a local receiver) gets the headline and body; bad URLs are reported."""

from __future__ import annotations

import json

import pytest

from opsverify.config.notify import AppriseSettings
from opsverify.notify.apprise import AppriseChannel
from opsverify.notify.base import RetryableError
from opsverify.notify.message import Message
from tests.conftest import refused_port
from tests.notify.conftest import result


def message() -> Message:
    return Message(
        status="failed",
        target="prod",
        tiers=("smoke",),
        route="routes[0]",
        failures=[result("api")],
        new=frozenset({"http:api"}),
        counts={"total": 1, "passed": 0, "failed": 1, "skipped": 0},
        run_id="r9",
    )


def test_json_url_receives_title_and_body(http_server) -> None:
    http_server.routes["/apprise"] = (200, {}, b"{}")
    url = f"json://127.0.0.1:{http_server.port}/apprise"
    channel = AppriseChannel("teams", AppriseSettings(url=url))
    assert channel.validate() == []
    channel.send(message())
    (request,) = http_server.requests
    data = json.loads(request["body"])
    assert data["title"] == "[FAILED] prod smoke: 1 of 1 check failed"
    assert "✗ http:api (normal, new)" in data["message"]
    assert data["type"] == "failure"


def test_invalid_url_is_named_by_scheme_only() -> None:
    channel = AppriseChannel("x", AppriseSettings(url="nosuchservice://token-123456"))
    (problem,) = channel.validate()
    assert "nosuchservice://..." in problem
    assert "token-123456" not in problem


def test_receiver_down_is_retryable() -> None:
    channel = AppriseChannel("x", AppriseSettings(url=f"json://127.0.0.1:{refused_port()}/apprise"))
    with pytest.raises(RetryableError, match="apprise could not deliver"):
        channel.send(message())
