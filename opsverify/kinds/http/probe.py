"""HTTP probe: request a URL (samples, retries, wait-until-ready) and return what came back.

What the probe does between requests (samples, retries, polling until ready) is written once, as `_steps`: a
generator that yields where it needs a response or a pause. `probe` drives it with requests, one blocking
request after the other (a probe per thread); `opsverify.kinds.http.aio.probe` drives it with aiohttp on an
event loop, where a run's many endpoints wait together in one thread. Both say what failed in the same
words (`opsverify.netmessages.describe`).
"""

from __future__ import annotations

import time
from collections.abc import Generator, Iterable, Mapping
from dataclasses import dataclass

import requests

from opsverify.httpclient import HttpSettings
from opsverify.kinds.base import ProbeContext
from opsverify.kinds.http.facts import HttpFacts
from opsverify.kinds.http.model import HttpAuth, HttpCheck
from opsverify.kinds.http.verdict import judge
from opsverify.units import format_duration

CHUNK = 65536


class RequestFailed(Exception):
    """A request that got no response; the message says what happened, where, and the fix."""


@dataclass(frozen=True)
class Pause:
    seconds: float
    why: str = ""  # while waiting until ready: what the last attempt found


REQUEST = None  # what `_steps` yields when it needs the next response
Step = Pause | None
Answer = HttpFacts | RequestFailed | None
Steps = Generator[Step, Answer, HttpFacts]


def probe(entry: HttpCheck, ctx: ProbeContext) -> HttpFacts:
    """Run the entry's request; with `wait_until_ready`, poll until the verdict passes or the deadline."""
    with settings_for(entry.auth, entry.headers).session() as session:
        steps = _steps(entry)
        answer: Answer = None
        try:
            while True:
                step = steps.send(answer)
                if step is REQUEST:
                    answer = _answer(session, entry, ctx)
                else:
                    ctx.progress.last = step.why or ctx.progress.last
                    ctx.pause(step.seconds)  # ends at once when the run is stopping
                    answer = None
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]


def _steps(entry: HttpCheck) -> Steps:
    """The requests and pauses of one probe; the caller sends each response (or failure) back in."""
    started = time.monotonic()
    deadline = started + entry.wait_until_ready if entry.wait_until_ready else None
    while True:
        facts = yield from _attempts(entry)
        facts.waited_s = time.monotonic() - started
        if deadline is None:
            return facts
        verdict = judge(entry, facts)
        if verdict.passed:
            facts.ready = True
            return facts
        if time.monotonic() + entry.poll_interval >= deadline:
            facts.waited_s, facts.ready = time.monotonic() - started, False
            if facts.error is None:
                return facts
            facts.error = (
                f"{facts.error} (still failing after waiting {format_duration(facts.waited_s)} for readiness)"
            )
            return facts
        yield Pause(entry.poll_interval, "; ".join(problem.text for problem in verdict.problems))


def _attempts(entry: HttpCheck) -> Steps:
    attempts = 0
    while True:
        attempts += 1
        facts = yield from _samples(entry)
        facts.attempts = attempts
        if attempts > entry.retries or judge(entry, facts).passed:
            return facts
        yield Pause(entry.retry_delay)


def _samples(entry: HttpCheck) -> Steps:
    facts = HttpFacts(url=entry.url, method=entry.method)
    for index in range(entry.samples):
        response_facts = yield REQUEST
        if not isinstance(response_facts, HttpFacts):
            facts.error = str(response_facts)
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


def settings_for(auth: HttpAuth | None, headers: Mapping[str, str]) -> HttpSettings:
    """The session settings of an entry with `auth:` and `headers:` (http, prometheus, metrics): opsverify's
    user agent, the entry's headers and credentials, the environment's proxies and CA bundle."""
    return HttpSettings(
        headers=headers,
        bearer=auth.bearer if auth is not None else None,
        basic=(auth.basic.username, auth.basic.password) if auth is not None and auth.basic else None,
    )


def verify_of(entry: HttpCheck, ctx: ProbeContext) -> bool | str:
    return entry.verify if isinstance(entry.verify, bool) else str(ctx.path(entry.verify))


def _answer(session: requests.Session, entry: HttpCheck, ctx: ProbeContext) -> HttpFacts | RequestFailed:
    try:
        return request(session, entry, ctx)
    except RequestFailed as failed:
        return failed


def request(session: requests.Session, entry: HttpCheck, ctx: ProbeContext) -> HttpFacts:
    """One request through requests (the session carries the entry's headers and credentials);
    RequestFailed when no response came."""
    started = time.perf_counter()
    try:
        response = session.request(
            entry.method,
            entry.url,
            data=entry.body.encode() if entry.body is not None else None,
            json=entry.json_body,
            timeout=entry.timeout,
            verify=verify_of(entry, ctx),
            allow_redirects=entry.follow_redirects,
            stream=True,
        )
        with response:
            body, truncated = _read_capped(response, entry.max_body_bytes, started + entry.timeout)
    except requests.exceptions.RequestException as exc:
        # the wording of a failure, imported only when a request failed (a passing run never needs it)
        from opsverify.netmessages import Endpoint, describe

        raise RequestFailed(describe(exc, Endpoint.from_url(entry.url, entry.timeout))) from None
    return response_facts(
        entry,
        response.status_code,
        response.headers.items(),
        body,
        truncated,
        response.encoding,
        started,
        [r.headers.get("location", "") for r in response.history],
    )


def response_facts(
    entry: HttpCheck,
    status: int,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    truncated: bool,
    encoding: str | None,
    started: float,
    redirects: list[str],
) -> HttpFacts:
    """The facts of one response (`started`: its perf_counter start); repeated headers joined with ", "."""
    elapsed_ms = (time.perf_counter() - started) * 1000
    joined: dict[str, str] = {}
    for name, value in headers:
        lowered = name.lower()
        joined[lowered] = f"{joined[lowered]}, {value}" if lowered in joined else value
    return HttpFacts(
        url=entry.url,
        method=entry.method,
        status=status,
        statuses=[status],
        headers=joined,
        text=body.decode(encoding or "utf-8", errors="replace"),
        body_bytes=len(body),
        truncated=truncated,
        content_type=joined.get("content-type", ""),
        latencies_ms=[elapsed_ms],
        redirects=redirects,
    )


def _read_capped(response: requests.Response, limit: int, deadline: float) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(chunk_size=CHUNK):
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            return b"".join(chunks)[:limit], True
        if time.perf_counter() > deadline:
            raise requests.exceptions.ReadTimeout("body not received within the timeout")
    return b"".join(chunks), False
