"""The event loop's connection pool starts few connections to one host at a time, without queueing the
attempts to a host that never answers behind each other's timeouts."""

from __future__ import annotations

import asyncio
import socket
import time

import aiohttp
import pytest

from opsverify.kinds.http import aio

ROUNDS = 10


def test_a_host_that_never_accepts_does_not_serialise_the_timeouts() -> None:
    # A listener that never accepts, its backlog full: further connects get no answer (their SYNs are
    # dropped) until `sock_connect` gives up. Ten rounds of attempts (80 for 8 slots): with slots held for a
    # whole timeout each this would take ten timeouts; a slot is given up after CONNECT_SLOT_SECONDS instead, and
    # all of them end in about one timeout.
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
            return await asyncio.gather(*(one() for _ in range(ROUNDS * aio.CONNECTS_PER_HOST)))
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
    # Ten rounds of held slots would take >= 10 timeouts; paced attempts finish in about one. The bound leaves
    # four timeouts of margin for a loaded machine and still fails a serialised run by far.
    assert elapsed < (ROUNDS / 2) * timeout, f"{elapsed:.2f}s"


def test_slow_handshakes_do_not_hold_the_other_connections_back(tmp_path) -> None:
    # A TLS server that starts each handshake 0.5 s after the connect (a far-away host, a busy proxy). Holding a
    # slot for a whole handshake would let the connections in eight at a time, 0.5 s apart; they must all
    # reach the server at once.
    import ssl
    import threading

    from tests.probes.conftest import make_certificate

    cert_file, key_file = make_certificate("localhost", ["127.0.0.1"]).write(tmp_path, "slow")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    connected: list[float] = []
    attempts = 5 * aio.CONNECTS_PER_HOST

    class SlowHandshake(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            connected.append(time.monotonic())
            assert isinstance(transport, asyncio.Transport)
            transport.pause_reading()  # the ClientHello waits in the socket until the handshake starts
            asyncio.get_running_loop().create_task(self.handshake(transport))

        async def handshake(self, transport: asyncio.Transport) -> None:
            await asyncio.sleep(0.5)
            try:
                tls = await asyncio.get_running_loop().start_tls(transport, self, context, server_side=True)
            except (OSError, ssl.SSLError):
                transport.close()
                return
            if tls is not None:
                tls.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    server_loop = asyncio.new_event_loop()
    server = server_loop.run_until_complete(server_loop.create_server(SlowHandshake, "127.0.0.1", 0))
    port = server.sockets[0].getsockname()[1]
    thread = threading.Thread(target=server_loop.run_forever, daemon=True)
    thread.start()

    async def requests() -> list[int]:
        connector = aio.PacedConnector(limit=0)
        client_timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=10)

        async def one() -> int:
            async with (
                aiohttp.ClientSession(connector=connector, connector_owner=False) as session,
                session.get(f"https://127.0.0.1:{port}/", ssl=False, timeout=client_timeout) as response,
            ):
                await response.read()
                return response.status

        try:
            return await asyncio.gather(*(one() for _ in range(attempts)))
        finally:
            await connector.close()

    try:
        statuses = asyncio.run(requests())
    finally:
        server_loop.call_soon_threadsafe(server_loop.stop)
        thread.join(timeout=5)
        server.close()
        pending = asyncio.all_tasks(server_loop)

        async def stop() -> None:
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            await server.wait_closed()

        server_loop.run_until_complete(stop())
        server_loop.close()
    assert statuses == [200] * attempts
    assert len(connected) == attempts
    # In slots held for the handshake: five rounds 0.5 s apart (2 s). Paced only while connecting: one round.
    # The bound sits halfway between the two (a loaded machine spreads one round over ~0.5 s).
    assert max(connected) - min(connected) < 1.0, f"{max(connected) - min(connected):.2f}s"
