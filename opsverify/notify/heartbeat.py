"""Heartbeat pings (Healthchecks.io style): URL/start when a run starts, URL on success, URL/fail on failure.

The monitoring side alerts when a ping does not arrive in time, so a drill that never ran is noticed too.
"""

from __future__ import annotations

import time
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from opsverify.config.notify import Heartbeat
from opsverify.notify.delivery import DeliveryRecord, Sleep, with_retries
from opsverify.notify.httpsend import http_send

Event = Literal["start", "success", "fail"]
MAX_BODY = 10_000  # Healthchecks.io keeps the first 10 kB of a ping body


def ping_url(url: str, event: Event) -> str:
    """`https://hc-ping.com/<uuid>` -> `.../<uuid>/start`, `.../<uuid>` or `.../<uuid>/fail` (query kept)."""
    if event == "success":
        return url
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}/{event}"))


def ping(
    heartbeat: Heartbeat, event: Event, target: str, body: str = "", sleep: Sleep = time.sleep
) -> DeliveryRecord:
    """Send one ping with retries; never raises (the outcome is a record)."""
    started = time.monotonic()
    url = ping_url(heartbeat.url, event)
    payload = body.encode()[:MAX_BODY]
    headers = {"Content-Type": "text/plain; charset=utf-8"}
    attempts, error = with_retries(
        lambda: http_send(url, payload, headers, heartbeat.timeout).close(),
        heartbeat.retries,
        1.0,
        sleep,
    )
    return DeliveryRecord(
        kind="heartbeat",
        target=target,
        channel=f"heartbeat/{event}",
        type="heartbeat",
        status="failed" if error else "sent",
        attempts=attempts,
        error=error,
        seconds=time.monotonic() - started,
        time=time.time(),
    )
