"""Slack: Block Kit content, Slack's limits (50 blocks, 3000 characters per section), `ok` as success."""

from __future__ import annotations

import json

import pytest

from opsverify.config.notify import SlackSettings
from opsverify.notify.base import DeliveryError
from opsverify.notify.message import Message
from opsverify.notify.slack import MAX_BLOCKS, MAX_SECTION_TEXT, SlackChannel, build_payload, fit
from tests.notify.conftest import SLACK_OK, result


def failed_message(count: int, reason_length: int = 40) -> Message:
    failures = [result(f"api-{i:03d}", reason="x" * reason_length) for i in range(count)]
    return Message(
        status="failed",
        target="cleaning-prod",
        tiers=("smoke",),
        route="routes[0]",
        failures=failures,
        new=frozenset(f.id for f in failures[:1]),
        counts={"total": count + 2, "passed": 2, "failed": count, "skipped": 0},
        run_id="run-42",
        duration=12.5,
        report_url="https://ci.example.com/report/42",
    )


def section_texts(payload: dict) -> list[str]:
    return [b["text"]["text"] for b in payload["blocks"] if b["type"] == "section"]


def test_payload_has_header_one_section_per_failure_and_context() -> None:
    payload = build_payload(failed_message(2))
    types = [b["type"] for b in payload["blocks"]]
    assert types == ["header", "section", "section", "section", "context"]
    assert payload["blocks"][0]["text"]["text"] == "FAILED: cleaning-prod · smoke"
    assert payload["text"] == "[FAILED] cleaning-prod smoke: 2 of 4 checks failed"
    sections = section_texts(payload)
    assert "*http:api-000* · normal · new" in sections[1]
    assert "*http:api-001* · normal · still failing" in sections[2]
    context = payload["blocks"][-1]["elements"][0]["text"]
    assert "run run-42" in context
    assert "<https://ci.example.com/report/42|open the report>" in context


def test_many_failures_fold_into_and_n_more_within_50_blocks() -> None:
    payload = build_payload(failed_message(120))
    assert len(payload["blocks"]) == MAX_BLOCKS
    last_section = section_texts(payload)[-1]
    shown = sum(1 for text in section_texts(payload) if text.startswith("*http:api-"))
    assert last_section.startswith(f"…and {120 - shown} more failed checks: http:api-")
    assert "http:api-119" in last_section


def test_exactly_as_many_failures_as_fit_need_no_folding() -> None:
    fitting = MAX_BLOCKS - 3  # header, summary section, context
    payload = build_payload(failed_message(fitting))
    assert len(payload["blocks"]) == MAX_BLOCKS
    assert not any("more failed checks" in text for text in section_texts(payload))


def test_long_reasons_are_cut_to_3000_characters_saying_how_much_is_left() -> None:
    payload = build_payload(failed_message(1, reason_length=10_000))
    text = section_texts(payload)[1]
    assert len(text) <= MAX_SECTION_TEXT
    assert text.endswith("more characters")
    assert "```… and " in text
    assert all(len(t) <= MAX_SECTION_TEXT for t in section_texts(payload))


def test_fit_keeps_short_text_and_states_the_rest() -> None:
    assert fit("short") == "short"
    cut = fit("y" * 5000, 100)
    assert len(cut) <= 100
    assert cut.endswith("more characters")
    kept = cut.count("y")
    assert f"and {5000 - kept} more" in cut


def test_mrkdwn_control_characters_are_escaped() -> None:
    message = failed_message(1)
    message.failures[0].reason = "body: expected <ok> & got <!channel>"
    text = section_texts(build_payload(message))[1]
    assert "&lt;ok&gt; &amp; got &lt;!channel&gt;" in text


def test_send_posts_json_and_accepts_ok(http_server) -> None:
    http_server.routes["/services/T1/B1/abc"] = SLACK_OK
    channel = SlackChannel("ops-slack", SlackSettings(webhook_url=f"{http_server.url}/services/T1/B1/abc"))
    channel.send(failed_message(3))
    (request,) = http_server.requests
    assert request["headers"]["Content-Type"] == "application/json"
    body = json.loads(request["body"])
    assert body["text"].startswith("[FAILED] cleaning-prod smoke: 3 of 5")
    assert len(body["blocks"]) == 6


def test_http_200_without_ok_body_is_a_failure(http_server) -> None:
    http_server.routes["/hook"] = (200, {}, b"invalid_payload")
    channel = SlackChannel("ops-slack", SlackSettings(webhook_url=f"{http_server.url}/hook"))
    with pytest.raises(DeliveryError, match="'invalid_payload' instead of 'ok'"):
        channel.send(failed_message(1))


def test_mention_prefixes_failure_text_only() -> None:
    assert build_payload(failed_message(1), "<!here>")["text"].startswith("<!here> [FAILED]")
    resolved = failed_message(0)
    resolved.status = "resolved"
    resolved.resolved = [result("api-000", "passed")]
    payload = build_payload(resolved, "<!here>")
    assert payload["text"].startswith("[RESOLVED]")
    assert ":white_check_mark: *Resolved:* `http:api-000`" in section_texts(payload)[-1]
