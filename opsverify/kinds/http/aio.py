"""The http probe on an event loop (aiohttp): what a run uses when it has many http checks.

The steps between requests (samples, retries, polling until ready) are the ones of
`opsverify.kinds.http.probe`; here each request is one of many waiting on the run's event loop
(`opsverify.asyncrun`), over connections kept alive per host, instead of a thread each. Requests are made as
requests makes them: certifi's CA bundle (or REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE, or the `verify:` file or
folder), `.netrc` credentials, raw bodies without a content type, JSON without NaN, up to 30 redirects, the
connect and read timeouts of `timeout:`, duplicate headers joined with ", ". A URL the environment sends
through a proxy goes through requests in a worker thread. Failures are translated into the requests /
http.client failures they correspond to, so `describe` says the same words either way.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import ssl
import time
from typing import Any

import aiohttp
import requests
from requests.utils import get_encoding_from_headers, get_netrc_auth

from opsverify import asyncrun
from opsverify.httpclient import HttpSettings
from opsverify.kinds.base import ProbeContext
from opsverify.kinds.http.facts import HttpFacts
from opsverify.kinds.http.model import HttpCheck
from opsverify.kinds.http.probe import (
    CHUNK,
    REQUEST,
    Answer,
    RequestFailed,
    _steps,
    response_facts,
    settings_for,
    verify_of,
)
from opsverify.kinds.http.probe import probe as blocking_probe
from opsverify.netmessages import ConnectTimeout, Endpoint, describe

MAX_REDIRECTS = 30  # as requests


CONNECTS_PER_HOST = 8  # connection attempts to one host started together at most ...
CONNECT_SLOT_SECONDS = 0.01  # ... each counted until it connects or for this long, whichever is first


class PacedConnector(aiohttp.TCPConnector):
    """aiohttp's connection pool, starting at most `CONNECTS_PER_HOST` new connections to a host at once.

    An event loop opens hundreds of connections to one host within a millisecond; a server with a short
    listen backlog (Python's http.server: 5) drops the SYNs it has no room for, and the kernel sends them
    all again after 1 s, 3 s, 7 s, together each time: checks failed with "no response within 10s" that
    threads, which connect a few at a time, never saw. An attempt holds its slot until it connects, fails, or
    `CONNECT_SLOT_SECONDS` have passed: on a local server a connect takes microseconds, so the attempts go out
    eight at a time; a far host's (a round trip, a TLS handshake) or a host that never answers holds a slot
    only briefly, so at least 800 attempts a second still start (slots held for whole handshakes would let
    a slow host's connections in eight at a time, one round per handshake). A request over a kept-alive
    connection takes its slot only for the pool lookup.
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._slots: dict[tuple[str, int | None], asyncio.Semaphore] = {}

    async def connect(
        self, req: aiohttp.ClientRequest, traces: list[Any], timeout: aiohttp.ClientTimeout
    ) -> aiohttp.connector.Connection:
        slots = self._slots.get((req.host, req.port))
        if slots is None:
            slots = self._slots[(req.host, req.port)] = asyncio.Semaphore(CONNECTS_PER_HOST)
        await slots.acquire()
        held = True

        def release() -> None:
            nonlocal held
            if held:
                held = False
                slots.release()

        timer = asyncio.get_running_loop().call_later(CONNECT_SLOT_SECONDS, release)
        try:
            return await super().connect(req, traces, timeout)
        finally:
            timer.cancel()
            release()


def _connector() -> aiohttp.TCPConnector:
    """The running loop's connection pool: keep-alive connections per host, shared by the loop's probes."""

    async def close(connector: aiohttp.TCPConnector) -> None:
        await connector.close()

    return asyncrun.loop_resource("http-connector", lambda: PacedConnector(limit=0, ttl_dns_cache=60), close)


_SSL_CONTEXTS: dict[tuple[str, int, int], ssl.SSLContext] = {}


def _bundle_key(verify: bool | str | None) -> tuple[str, int, int] | None:
    """What requests verifies against, with its modification time and size: certifi's bundle (or the
    settings' REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE, already in `verify`), the CA file or folder given as
    `verify:`; None for `verify: false`."""
    if verify is False:
        return None
    if verify is True or verify is None:
        import certifi

        verify = certifi.where()
    try:
        status = os.stat(verify)
    except OSError:
        return (verify, 0, 0)
    return (verify, status.st_mtime_ns, status.st_size)


def _load_context(key: tuple[str, int, int]) -> ssl.SSLContext:
    path = key[0]
    if os.path.isdir(path):
        return ssl.create_default_context(capath=path)
    return ssl.create_default_context(cafile=path)


async def _ssl_context(verify: bool | str | None) -> ssl.SSLContext | bool:
    """The TLS context of `verify`, made once per bundle (loading one takes milliseconds: off the loop)."""
    key = _bundle_key(verify)
    if key is None:
        return False
    context = _SSL_CONTEXTS.get(key)
    if context is None:
        context = _SSL_CONTEXTS[key] = await asyncio.to_thread(_load_context, key)
    return context


async def probe(entry: HttpCheck, ctx: ProbeContext) -> HttpFacts:
    """`opsverify.kinds.http.probe.probe` on the running event loop: the same steps, the same facts, the
    same session settings (user agent, headers, credentials, proxies, CA bundle) as the requests session."""
    settings = settings_for(entry.auth, entry.headers)
    if settings.proxies_for(entry.url):
        return await asyncio.to_thread(blocking_probe, entry, ctx)  # through the proxy, as requests does it
    session = aiohttp.ClientSession(
        connector=_connector(), connector_owner=False, timeout=aiohttp.ClientTimeout(total=None)
    )  # one per probe: its own cookies, as a requests session had; connections from the loop's pool
    try:
        steps = _steps(entry)
        answer: Answer = None
        try:
            while True:
                step = steps.send(answer)
                if step is REQUEST:
                    try:
                        answer = await _request(session, settings, entry, ctx)
                    except RequestFailed as failed:
                        answer = failed
                else:
                    ctx.progress.last = step.why or ctx.progress.last
                    await asyncio.sleep(step.seconds)
                    answer = None
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
    finally:
        await session.close()


async def _request(
    session: aiohttp.ClientSession, settings: HttpSettings, entry: HttpCheck, ctx: ProbeContext
) -> HttpFacts:
    headers, auth = settings.default_headers(), settings.basic
    if auth is None and "Authorization" not in headers:
        auth = get_netrc_auth(entry.url)
    if auth is not None:
        headers["Authorization"] = aiohttp.encode_basic_auth(*auth)
    data: bytes | None = entry.body.encode() if entry.body is not None else None
    skip = () if data is None else ("Content-Type",)  # requests sends raw bodies without a content type
    if entry.json_body is not None:
        data = json.dumps(entry.json_body, allow_nan=False).encode()
        if not any(name.lower() == "content-type" for name in headers):
            headers["Content-Type"] = "application/json"
    ssl_context: ssl.SSLContext | bool = True
    if entry.url.startswith("https:"):
        try:
            ssl_context = await _ssl_context(settings.verify(verify_of(entry, ctx)))
        except (OSError, ssl.SSLError) as exc:
            reason = exc.strerror or str(exc) if isinstance(exc, OSError) else str(exc)
            raise RequestFailed(
                f"cannot load the CA bundle {verify_of(entry, ctx)}: {reason} (set `verify:` to a PEM file or "
                "a folder of CA certificates, or `verify: false`)"
            ) from None
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=entry.timeout, sock_read=entry.timeout)
    started = time.perf_counter()
    try:
        async with session.request(
            entry.method,
            entry.url,
            headers=headers,
            data=data,
            allow_redirects=entry.follow_redirects,
            max_redirects=MAX_REDIRECTS,
            ssl=ssl_context,
            timeout=timeout,
            skip_auto_headers=skip,
        ) as response:
            body, truncated = await _read_capped(response, entry.max_body_bytes, started + entry.timeout)
    except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
        raise RequestFailed(await _describe(exc, entry)) from None
    return response_facts(
        entry,
        response.status,
        response.headers.items(),
        body,
        truncated,
        get_encoding_from_headers(response.headers),
        started,
        [r.headers.get("location", "") for r in response.history],
    )


async def _read_capped(response: aiohttp.ClientResponse, limit: int, deadline: float) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(CHUNK):
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            return b"".join(chunks)[:limit], True
        if time.perf_counter() > deadline:
            raise aiohttp.SocketTimeoutError("body not received within the timeout")
    return b"".join(chunks), False


def _as_requests_error(exc: BaseException) -> BaseException:
    """An aiohttp failure as the requests / http.client failure `describe` knows (the same words either way)."""
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return exc.certificate_error  # aiohttp's wrapper is an ssl error itself, without the verify message
    if isinstance(exc, aiohttp.ClientConnectorError):
        return exc.os_error
    if isinstance(exc, aiohttp.TooManyRedirects):
        return requests.exceptions.TooManyRedirects(f"Exceeded {MAX_REDIRECTS} redirects.")
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return ConnectTimeout(str(exc))
    if isinstance(exc, aiohttp.ServerTimeoutError | TimeoutError):
        return requests.exceptions.ReadTimeout(str(exc))
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return http.client.RemoteDisconnected("Remote end closed connection without response")
    if isinstance(exc, aiohttp.ClientPayloadError):
        return requests.exceptions.ChunkedEncodingError(str(exc))
    if isinstance(exc, aiohttp.ClientResponseError) and exc.status == 400 and exc.message:
        return http.client.BadStatusLine(_bad_line(exc.message))
    return exc


def _bad_line(message: str) -> str:
    """The line aiohttp could not parse as an HTTP status line (its message quotes it)."""
    for quote in ("'", '"'):
        start = message.find(quote)
        end = message.rfind(quote)
        if 0 <= start < end:
            return message[start + 1 : end]
    return message


async def _describe(exc: BaseException, entry: HttpCheck) -> str:
    # describe may look at the endpoint once more (a short blocking connection): not on the loop's thread
    return await asyncio.to_thread(
        describe, _as_requests_error(exc), Endpoint.from_url(entry.url, entry.timeout)
    )
