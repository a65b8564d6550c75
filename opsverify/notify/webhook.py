"""Generic webhook: JSON POST of the run summary, optional headers and an HMAC-SHA256 signature header."""

from __future__ import annotations

import hashlib
import hmac
import json

from opsverify.config.notify import WebhookSettings
from opsverify.notify.base import Channel
from opsverify.notify.httpsend import http_send
from opsverify.notify.message import Message
from opsverify.redaction import redact


def signature(key: str, body: bytes) -> str:
    """`sha256=<hex>`: HMAC-SHA256 of the exact request body (verify it before trusting the payload)."""
    return "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def build_body(message: Message) -> bytes:
    return json.dumps(message.as_json(), ensure_ascii=False, sort_keys=True).encode()


class WebhookChannel(Channel[WebhookSettings]):
    """POSTs the message as JSON; any 2xx is success."""

    type_name = "webhook"

    def send(self, message: Message) -> None:
        body = build_body(message)
        headers = {"Content-Type": "application/json", **self.settings.headers}
        if self.settings.hmac_key:
            headers[self.settings.hmac_header] = signature(self.settings.hmac_key, body)
        http_send(self.settings.url, body, headers, self.settings.timeout, self.settings.method)

    def preview(self, message: Message) -> str:
        return redact(json.dumps(message.as_json(), indent=2, ensure_ascii=False, sort_keys=True))
