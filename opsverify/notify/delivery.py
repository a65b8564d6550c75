"""Delivery: each attempt has a timeout; 429/5xx/network errors are retried with backoff (Retry-After wins).

A channel that fails never raises out of here: it becomes a record (channel, status, attempts, error)
for the terminal summary and reports/notifications.jsonl, and the other channels still send.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, cast

from opsverify.notify.base import Channel, DeliveryError, RetryableError
from opsverify.notify.message import Message
from opsverify.redaction import redact, redact_data

MAX_RETRY_WAIT = 60.0  # a Retry-After longer than this is capped: a run must end
MAX_BACKOFF = 30.0
Sleep = Callable[[float], None]


@dataclass
class DeliveryRecord:
    """One line of notifications.jsonl."""

    kind: str  # "message" or "heartbeat"
    target: str
    channel: str
    type: str
    status: str  # sent | failed | dry-run | disabled
    attempts: int = 0
    error: str | None = None
    route: str | None = None
    subject: str | None = None
    seconds: float = 0.0
    time: float = 0.0
    event: str | None = None  # failed | reminder | resolved | passed | completed (Message.event)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["seconds"] = round(self.seconds, 3)
        return cast(dict[str, Any], redact_data(data))


def with_retries(
    attempt: Callable[[], None], retries: int, backoff: float, sleep: Sleep = time.sleep
) -> tuple[int, str | None]:
    """Run `attempt` until it succeeds, fails permanently, or the retries are used: (attempts, error)."""
    attempts = 0
    while True:
        attempts += 1
        try:
            attempt()
            return attempts, None
        except RetryableError as exc:
            if attempts > retries:
                return attempts, redact(str(exc))
            wait = exc.retry_after if exc.retry_after is not None else backoff * 2 ** (attempts - 1)
            sleep(min(wait, MAX_RETRY_WAIT if exc.retry_after is not None else MAX_BACKOFF))
        except DeliveryError as exc:
            return attempts, redact(str(exc))
        except Exception as exc:  # noqa: BLE001 (a channel bug must not change a verdict; it is reported)
            return attempts, redact(f"unexpected {type(exc).__name__} in the channel: {exc}")[:500]


def deliver(
    channel: Channel[Any], message: Message, target: str, route: str, sleep: Sleep = time.sleep
) -> DeliveryRecord:
    """Send `message` through `channel` with retries; never raises."""
    started = time.monotonic()
    settings = channel.settings
    attempts, error = with_retries(lambda: channel.send(message), settings.retries, settings.backoff, sleep)
    return DeliveryRecord(
        kind="message",
        target=target,
        channel=channel.name,
        type=channel.type_name,
        status="failed" if error else "sent",
        attempts=attempts,
        error=error,
        route=route,
        subject=message.headline,
        seconds=time.monotonic() - started,
        time=time.time(),
        event=message.event,
    )


def deliver_all(
    jobs: list[tuple[Channel[Any], Message, str, str]], sleep: Sleep = time.sleep
) -> list[DeliveryRecord]:
    """Deliver (channel, message, target, route) jobs concurrently; records come back in job order."""
    if not jobs:
        return []
    with ThreadPoolExecutor(max_workers=min(8, len(jobs)), thread_name_prefix="opsverify-notify") as pool:
        futures = [
            pool.submit(deliver, channel, msg, target, route, sleep) for channel, msg, target, route in jobs
        ]
        return [future.result() for future in futures]


def append_journal(path: Path, records: list[DeliveryRecord]) -> None:
    """Append records to notifications.jsonl (one JSON object per line, redacted)."""
    if not records:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as journal:
        for record in records:
            journal.write(json.dumps(record.as_json(), ensure_ascii=False) + "\n")
