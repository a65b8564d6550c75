"""The event loop of a run's many http probes: coroutines from any thread, resources closed with the loop."""

from __future__ import annotations

import asyncio
import threading

from opsverify import asyncrun


class Pool:
    def __init__(self) -> None:
        self.closed = False

    async def close(self) -> None:
        self.closed = True


async def pool_of_this_loop() -> Pool:
    async def close(pool: Pool) -> None:
        await pool.close()

    return asyncrun.loop_resource("pool", Pool, close)


def test_a_loop_resource_is_made_once_per_loop_and_closed_with_it() -> None:
    loop = asyncrun.LoopThread("test-loop")
    first = loop.submit(pool_of_this_loop()).result(5)
    assert loop.submit(pool_of_this_loop()).result(5) is first
    elsewhere = asyncrun.run(pool_of_this_loop())  # a loop of its own: another pool, closed when run returns
    assert elsewhere is not first
    assert elsewhere.closed
    assert not first.closed
    loop.close()
    assert first.closed
    assert loop.loop.is_closed()


def test_close_cancels_what_still_waits_and_stops_the_thread() -> None:
    loop = asyncrun.LoopThread("test-loop")
    waiting = loop.submit(asyncio.sleep(60))
    names = {thread.name for thread in threading.enumerate()}
    assert "test-loop" in names
    loop.close(timeout=5)
    assert waiting.cancelled()
    assert "test-loop" not in {thread.name for thread in threading.enumerate()}
    loop.close()  # a second close does nothing


def test_a_resource_that_fails_to_close_does_not_fail_the_end_of_the_run() -> None:
    async def broken() -> str:
        async def close(_: object) -> None:
            raise RuntimeError("cannot close")

        return asyncrun.loop_resource("broken", lambda: "value", close)

    assert asyncrun.run(broken()) == "value"
