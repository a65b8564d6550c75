"""An asyncio event loop for probes that wait on many sockets at once, and what lives as long as that loop.

A run's live HTTP probes wait on one event loop in one background thread (`LoopThread`) instead of one
thread each: a thousand requests in flight cost one thread and no GIL hand-offs between a thousand
threads. Objects that belong to a loop (an HTTP connection pool) are made on first use with
`loop_resource` and closed when the loop ends, whether that is a `LoopThread` closing at the end of a run
or `run` returning to a caller that wanted one answer synchronously.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

_Closer = Callable[[Any], Awaitable[None]]
_RESOURCES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, tuple[Any, _Closer]]] = (
    weakref.WeakKeyDictionary()
)


def loop_resource(key: str, make: Callable[[], T], close: _Closer) -> T:
    """The running loop's object under `key`, made by `make()` on first use; `close(obj)` runs when the loop ends."""
    resources = _RESOURCES.setdefault(asyncio.get_running_loop(), {})
    found = resources.get(key)
    if found is None:
        found = (make(), close)
        resources[key] = found
    return found[0]


async def close_loop_resources() -> None:
    """Close what `loop_resource` made for the running loop (never raises: this runs at the end of a run)."""
    resources = _RESOURCES.pop(asyncio.get_running_loop(), {})
    for value, close in resources.values():
        with contextlib.suppress(Exception):  # a pool that cannot close cleanly must not fail the run
            await close(value)


async def _then_close(awaitable: Awaitable[T]) -> T:
    try:
        return await awaitable
    finally:
        await close_loop_resources()


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run `coroutine` to its end on a loop of its own (a caller outside a run: a test, the CLI)."""
    return asyncio.run(_then_close(coroutine))


class LoopThread:
    """An event loop running in a daemon thread; coroutines are submitted from any thread."""

    def __init__(self, name: str = "opsverify-async") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def submit(self, coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def close(self, timeout: float = 5.0) -> None:
        """Cancel what still runs, close the loop's resources, stop the thread (at most `timeout` seconds)."""
        if self.loop.is_closed():
            return

        async def wind_down() -> None:
            current = asyncio.current_task()
            pending = [task for task in asyncio.all_tasks() if task is not current]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            await close_loop_resources()
            await asyncio.get_running_loop().shutdown_default_executor()  # threads of `asyncio.to_thread`

        with contextlib.suppress(concurrent.futures.TimeoutError, RuntimeError):
            self.submit(wind_down()).result(timeout)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)
        if not self._thread.is_alive():
            self.loop.close()
