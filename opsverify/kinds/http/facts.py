"""What the http probe observed: one response (or the error), its samples, retries and readiness wait."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from opsverify.kinds.base import Phase
from opsverify.units import format_duration, plural


@dataclass
class HttpFacts:
    """One HTTP check's observations. `text` is capped at the entry's max_body_bytes."""

    url: str
    method: str = "GET"
    status: int | None = None
    statuses: list[int] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    text: str = ""
    body_bytes: int = 0
    truncated: bool = False
    content_type: str = ""
    latencies_ms: list[float] = field(default_factory=list)
    redirects: list[str] = field(default_factory=list)
    error: str | None = None
    attempts: int = 0
    waited_s: float = 0.0
    ready: bool | None = None  # with wait_until_ready: whether the expectations held before the deadline

    @property
    def p95_ms(self) -> float:
        """95th percentile latency (nearest-rank) over the samples."""
        if not self.latencies_ms:
            return 0.0
        ordered = sorted(self.latencies_ms)
        return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]

    def phases(self) -> list[Phase]:
        """Waiting for readiness, each request of the last attempt (status, latency), the error if any."""
        phases = []
        if self.ready is not None:
            state = "ready" if self.ready else "not ready by the deadline"
            phases.append(Phase("wait until ready", self.ready, state, self.waited_s))
        attempt = f" (attempt {self.attempts})" if self.attempts > 1 else ""
        count = len(self.statuses) + (1 if self.error else 0)
        for index, (status, latency) in enumerate(zip(self.statuses, self.latencies_ms, strict=False)):
            sample = f" sample {index + 1}" if count > 1 else ""
            phases.append(
                Phase(f"{self.method} {self.url}{sample}{attempt}", True, f"HTTP {status}", latency / 1000)
            )
        if self.error:
            sample = f" sample {count}" if count > 1 else ""
            phases.append(Phase(f"{self.method} {self.url}{sample}{attempt}", False, self.error))
        elif self.status is not None:
            size = f"{plural(self.body_bytes, 'byte')}{' (truncated)' if self.truncated else ''}"
            via = f", after {plural(len(self.redirects), 'redirect')}" if self.redirects else ""
            phases.append(
                Phase("read the body", True, f"{size}, {self.content_type or 'no content type'}{via}")
            )
        return phases

    def json_document(self) -> tuple[bool, Any]:
        try:
            return True, json.loads(self.text)
        except ValueError:
            return False, None

    def excerpt(self, limit: int = 600) -> str:
        """The start of the body, for failure messages (caller redacts)."""
        text = self.text.strip()
        if not text:
            return "(empty body)"
        printable = "".join(ch if ch.isprintable() or ch in "\n\t" else "\ufffd" for ch in text[:limit])
        more = len(text) > limit or self.truncated
        return printable + (
            f" … ({plural(self.body_bytes, 'byte')}{' read, truncated' if self.truncated else ''})"
            if more
            else ""
        )

    def evidence(self, show_wait: bool = False) -> str:
        """`GET URL -> 503 in 12 ms[, waited 1.2s]` and, when a response came, the start of its body."""
        latency = f" in {self.p95_ms:.0f} ms" if self.latencies_ms else ""
        waited = f", waited {format_duration(self.waited_s)}" if show_wait else ""
        head = f"{self.method} {self.url} -> {self.status or 'no response'}{latency}{waited}"
        return head if self.error else f"{head}\n{self.excerpt()}"
