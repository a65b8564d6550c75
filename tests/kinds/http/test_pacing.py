"""The event loop's connection pool starts few connections to one host at a time, without queueing the
attempts to a host that never answers behind each other's timeouts."""

from __future__ import annotations

import asyncio
import socket
import time

import aiohttp
import pytest

from opsverify.kinds.http import aio


def test_a_host_that_never_accepts_does_not_serialise_the_timeouts() -> None:
    # A listener that never accepts, its backlog full: further connects get no answer (their SYNs are
    # dropped) until `sock_connect` gives up. 24 attempts, 8 slots: with slots held for a whole timeout each
    # this would take three timeouts; a slot is given up after CONNECT_SLOT_SECONDS instead.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):  # fill the accept queue
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    timeout = 1.0

    async def attempts() -> list[BaseException | None]:
        connector = aio.PacedConnector(limit=0)
        client_timeout = aiohttp.ClientTimeout(total=None, sock_connect=timeout, sock_read=timeout)

        async def one() -> BaseException | None:
            try:
                async with (
                    aiohttp.ClientSession(connector=connector, connector_owner=False) as session,
                    session.get(f"http://127.0.0.1:{port}/", timeout=client_timeout) as response,
                ):
                    await response.read()
            except (TimeoutError, aiohttp.ClientError) as exc:
                return exc
            return None

        try:
            return await asyncio.gather(*(one() for _ in range(3 * aio.CONNECTS_PER_HOST)))
        finally:
            await connector.close()

    started = time.monotonic()
    try:
        outcomes = asyncio.run(attempts())
    finally:
        for filler in fillers:
            filler.close()
        listener.close()
    elapsed = time.monotonic() - started
    failed = [outcome for outcome in outcomes if outcome is not None]
    if not failed:
        pytest.fail("the kernel accepted every connect: this machine's backlog handling differs")
    # Three rounds of held slots would take >= 3 timeouts; paced attempts finish in about one.
    assert elapsed < 2.5 * timeout, f"{elapsed:.2f}s"
