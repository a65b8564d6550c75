"""HTTP probe: request a URL (samples, retries, wait-until-ready) and return what came back."""

from __future__ import annotations

import time

import requests

from opsverify.httpclient import ProbeSession
from opsverify.kinds.base import ProbeContext
from opsverify.kinds.http.facts import HttpFacts
from opsverify.kinds.http.model import HttpCheck
from opsverify.kinds.http.verdict import judge
from opsverify.netmessages import Endpoint, describe
from opsverify.units import format_duration

USER_AGENT = "opsverify (+https://github.com/opsverify/opsverify)"


def probe(entry: HttpCheck, ctx: ProbeContext) -> HttpFacts:
    """Run the entry's request; with `wait_until_ready`, poll until the verdict passes or the deadline."""
    started = time.monotonic()
    deadline = started + entry.wait_until_ready if entry.wait_until_ready else None
    with ProbeSession() as session:
        session.headers["User-Agent"] = USER_AGENT
        while True:
            facts = _with_retries(session, entry, ctx)
            facts.waited_s = time.monotonic() - started
            if deadline is None:
                return facts
            if judge(entry, facts).passed:
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
        if attempts > entry.retries or judge(entry, facts).passed:
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
