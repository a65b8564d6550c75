"""HTTP probe: request a URL (samples, retries, wait-until-ready) and return what came back."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import requests

from opsverify.config.types import format_duration, plural
from opsverify.netmessages import Endpoint, describe
from opsverify.probes.base import Phase, ProbeContext

if TYPE_CHECKING:
    from opsverify.config.http import HttpCheck

USER_AGENT = "opsverify (+https://github.com/opsverify/opsverify)"


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


def probe(entry: HttpCheck, ctx: ProbeContext) -> HttpFacts:
    """Run the entry's request; with `wait_until_ready`, poll until its expectations hold or the deadline."""
    started = time.monotonic()
    deadline = started + entry.wait_until_ready if entry.wait_until_ready else None
    with requests.Session() as session:
        session.headers["User-Agent"] = USER_AGENT
        while True:
            facts = _with_retries(session, entry, ctx)
            facts.waited_s = time.monotonic() - started
            if deadline is None:
                return facts
            if not entry.mismatches(facts):
                facts.ready = True
                return facts
            if time.monotonic() + entry.poll_interval >= deadline:
                facts.waited_s, facts.ready = time.monotonic() - started, False
                if facts.error is None:
                    return facts
                facts.error = f"{facts.error} (still failing after waiting {format_duration(facts.waited_s)} for readiness)"
                return facts
            time.sleep(entry.poll_interval)


def _with_retries(session: requests.Session, entry: HttpCheck, ctx: ProbeContext) -> HttpFacts:
    attempts = 0
    while True:
        attempts += 1
        facts = _sample(session, entry, ctx)
        facts.attempts = attempts
        if attempts > entry.retries or not entry.mismatches(facts):
            return facts
        time.sleep(entry.retry_delay)


def _sample(session: requests.Session, entry: HttpCheck, ctx: ProbeContext) -> HttpFacts:
    facts = HttpFacts(url=entry.url, method=entry.method)
    for index in range(entry.samples):
        try:
            response_facts = _request(session, entry, ctx)
        except requests.exceptions.RequestException as exc:
            facts.error = describe(exc, Endpoint.from_url(entry.url, entry.timeout))
            return facts
        facts.latencies_ms.append(response_facts.latencies_ms[0])
        facts.statuses.append(response_facts.status or 0)
        if index == 0:
            latencies, statuses = facts.latencies_ms, facts.statuses
            facts = response_facts
            facts.latencies_ms, facts.statuses = latencies, statuses
        elif response_facts.status != facts.status and facts.status in entry.expect.status:
            # Keep the body of a failing sample: that is the one worth showing.
            latencies, statuses = facts.latencies_ms, facts.statuses
            facts = response_facts
            facts.latencies_ms, facts.statuses = latencies, statuses
    return facts


def _request(session: requests.Session, entry: HttpCheck, ctx: ProbeContext) -> HttpFacts:
    headers = dict(entry.headers)
    auth: tuple[str, str] | None = None
    if entry.auth and entry.auth.bearer is not None:
        headers["Authorization"] = f"Bearer {entry.auth.bearer}"
    elif entry.auth and entry.auth.basic is not None:
        auth = (entry.auth.basic.username, entry.auth.basic.password)
    verify: bool | str = entry.verify if isinstance(entry.verify, bool) else str(ctx.path(entry.verify))
    started = time.perf_counter()
    response = session.request(
        entry.method,
        entry.url,
        headers=headers,
        auth=auth,
        data=entry.body.encode() if entry.body is not None else None,
        json=entry.json_body,
        timeout=entry.timeout,
        verify=verify,
        allow_redirects=entry.follow_redirects,
        stream=True,
    )
    with response:
        body, truncated = _read_capped(response, entry.max_body_bytes, started + entry.timeout)
    elapsed_ms = (time.perf_counter() - started) * 1000
    return HttpFacts(
        url=entry.url,
        method=entry.method,
        status=response.status_code,
        statuses=[response.status_code],
        headers={k.lower(): v for k, v in response.headers.items()},
        text=body.decode(response.encoding or "utf-8", errors="replace"),
        body_bytes=len(body),
        truncated=truncated,
        content_type=response.headers.get("content-type", ""),
        latencies_ms=[elapsed_ms],
        redirects=[r.headers.get("location", "") for r in response.history],
    )


def _read_capped(response: requests.Response, limit: int, deadline: float) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(chunk_size=65536):
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            return b"".join(chunks)[:limit], True
        if time.perf_counter() > deadline:
            raise requests.exceptions.ReadTimeout("body not received within the timeout")
    return b"".join(chunks), False
