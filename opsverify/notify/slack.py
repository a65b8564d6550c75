"""Slack incoming webhook: a Block Kit message (header, one section per failed check, context) + fallback text.

Slack rejects messages over 50 blocks or with section text over 3000 characters, so the rest is folded
into an "and N more" section.
"""

from __future__ import annotations

import json
from typing import Any

from opsverify.config.notify import SlackSettings
from opsverify.notify.base import Channel, DeliveryError
from opsverify.notify.httpsend import http_send
from opsverify.notify.message import Message
from opsverify.redaction import redact
from opsverify.units import plural

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
STATUS_EMOJI = {"failed": ":red_circle:", "resolved": ":large_green_circle:", "passed": ":white_check_mark:"}


def escape(text: str) -> str:
    """Slack mrkdwn control characters (&, <, >) as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fit(text: str, limit: int = MAX_SECTION_TEXT, closing: str = "") -> str:
    """`text` cut to `limit` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    keep = limit - len(closing) - len(f"… and {len(text)} more characters")
    return f"{text[:keep]}{closing}… and {len(text) - keep} more characters"


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def build_payload(message: Message, mention: str | None = None) -> dict[str, Any]:
    """The webhook body: `text` (fallback and notification preview) and `blocks`, within Slack's limits."""
    emoji = STATUS_EMOJI.get(message.status, ":clipboard:")
    header = f"{message.status.upper()}: {message.target} · {message.tier_label}"
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": fit(header, MAX_HEADER_TEXT), "emoji": True},
        },
        _section(fit(f"{emoji} {escape(message.headline)}")),
    ]
    resolved_block = None
    if message.resolved:
        names = ", ".join(f"`{escape(r.id)}`" for r in message.resolved)
        resolved_block = _section(fit(f":white_check_mark: *Resolved:* {names}"))
    footer = escape(message.footer())
    if message.report_url:
        footer += f" · <{message.report_url}|open the report>"
    context = {"type": "context", "elements": [{"type": "mrkdwn", "text": fit(footer)}]}
    room = MAX_BLOCKS - len(blocks) - 1 - (1 if resolved_block else 0)
    shown = message.failures if len(message.failures) <= room else message.failures[: room - 1]
    for result in shown:
        note = "new" if result.id in message.new else "still failing"
        head = f"*{escape(result.id)}* · {escape(result.severity)} · {note}\n"
        body = f"```{escape(result.reason or 'failed')}```"
        blocks.append(_section(head + fit(body, MAX_SECTION_TEXT - len(head), closing="```")))
    hidden = message.failures[len(shown) :]
    if hidden:
        names = ", ".join(escape(r.id) for r in hidden)
        blocks.append(_section(fit(f"…and {plural(len(hidden), 'more failed check')}: {names}")))
    if resolved_block:
        blocks.append(resolved_block)
    blocks.append(context)
    text = f"{mention} {message.headline}" if mention and message.status == "failed" else message.headline
    return {"text": fit(redact(text)), "blocks": json.loads(redact(json.dumps(blocks)))}


class SlackChannel(Channel[SlackSettings]):
    """Posts to a Slack incoming webhook; success is HTTP 200 with body `ok`."""

    type_name = "slack"

    def send(self, message: Message) -> None:
        payload = build_payload(message, self.settings.mention)
        response = http_send(
            self.settings.webhook_url,
            json.dumps(payload).encode(),
            {"Content-Type": "application/json"},
            self.settings.timeout,
        )
        body = response.text.strip()
        if body != "ok":
            raise DeliveryError(
                f"Slack answered HTTP {response.status_code} with {redact(body[:200])!r} instead of 'ok' "
                "(check the webhook URL and that the app is still installed)"
            )

    def preview(self, message: Message) -> str:
        return json.dumps(build_payload(message, self.settings.mention), indent=2, ensure_ascii=False)
