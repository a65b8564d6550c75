"""Concurrent execution of live probes ahead of their tests (a bounded thread pool)."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from concurrent.futures import Future, wait
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from opsverify.config.target import CheckItem
from opsverify.kinds.base import ProbeContext, ProbeProgress
from opsverify.pytest_plugin.startup import library_imports

if TYPE_CHECKING:
    import asyncio

    from opsverify.asyncrun import LoopThread

AsyncProbe = Callable[..., Coroutine[Any, Any, Any]]
WATCH_TICK = 0.5  # seconds between the calls of `ProbePool.result`'s watch while a test waits


def probe_context(check: CheckItem, stop: threading.Event | None = None) -> ProbeContext:
    return ProbeContext(
        check.target.name,
        check.target.base_dir,
        target=check.target,
        entry_name=check.name,
        stop=stop or threading.Event(),
    )


def run_probe(check: CheckItem, ctx: ProbeContext | None = None) -> Any:
    """Run the probe of `check`'s kind against its entry."""
    probe = check.kind.load_probe()
    return probe(check.entry, ctx or probe_context(check))


class DaemonThreadPool:
    """At most `workers` daemon threads running submitted calls, started as needed.

    Not a ThreadPoolExecutor: the interpreter joins those threads at exit, so a probe blocked in a
    5-minute read would keep an interrupted run's process alive that long. A daemon thread ends with it.
    """

    def __init__(self, workers: int, name: str) -> None:
        self.workers, self.name = workers, name
        self._jobs: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]] | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._idle = threading.Semaphore(0)
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, call: Callable[[], Any]) -> Future[Any]:
        future: Future[Any] = Future()
        with self._lock:
            if self._closed:
                future.cancel()
                return future
            self._jobs.put((future, call))
            if not self._idle.acquire(blocking=False) and len(self._threads) < self.workers:
                thread = threading.Thread(
                    target=self._work, name=f"{self.name}_{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
        return future

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            future, call = job
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(call())
                except BaseException as exc:  # noqa: BLE001 (handed to whoever reads the future)
                    future.set_exception(exc)
            self._idle.release()

    def shutdown(self) -> None:
        """Cancel what has not started; the threads end after their current call (or with the process)."""
        with self._lock:
            self._closed = True
            while True:
                try:
                    job = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if job is not None:
                    job[0].cancel()
            for _ in self._threads:
                self._jobs.put(None)


@dataclass(frozen=True)
class ProbeTiming:
    """When a check's probe ran (wall clock, seconds since the epoch) and how long its test waited for it.

    Probes of live kinds run in the pool ahead of their tests, so a test's own phases see only the wait
    (often none); the reports add the probe's duration to the check's (opsverify.pytest_plugin.reporting).
    """

    started: float
    stopped: float
    waited: float = 0.0  # seconds the test blocked in `ProbePool.result` (its setup phase)

    @property
    def seconds(self) -> float:
        return max(0.0, self.stopped - self.started)


class _SnapshotLoggerDict(dict[str, Any]):
    """logging's logger registry, iterated over a snapshot.

    pytest's log capture walks `logging.root.manager.loggerDict.values()` at every test phase without
    logging's lock; a probe thread importing a library creates loggers meanwhile, and the walk dies with
    "dictionary changed size during iteration". `list(dict.values())` runs without releasing the GIL.
    """

    def values(self) -> Any:
        return list(super().values())

    def items(self) -> Any:
        return list(super().items())


def make_logger_registry_thread_safe() -> None:
    manager = logging.Logger.manager
    if not isinstance(manager.loggerDict, _SnapshotLoggerDict):
        manager.loggerDict = _SnapshotLoggerDict(manager.loggerDict)


class ProbePool:
    """Starts probes early so a run costs about its slowest probe; tests then collect the facts.

    Probes of kinds with an asynchronous probe (http) wait together on one event loop in one thread, at
    most `loop_workers` at once; the others run in a pool of at most `workers` threads.
    """

    def __init__(self, workers: int, loop_workers: int | None = None) -> None:
        make_logger_registry_thread_safe()
        self.workers = workers
        self.loop_workers = loop_workers or workers
        self._executor = DaemonThreadPool(workers, "opsverify-probe")
        self.stopping = threading.Event()  # set by `stop`: probes' pauses and waits end at once
        self._loop: LoopThread | None = None
        self._gate: asyncio.Semaphore | None = None
        self._async_probes: dict[str, AsyncProbe | None] = {}  # by kind name
        self._futures: dict[str, Future[Any]] = {}
        self._ran: dict[str, ProbeTiming] = {}  # by probe key: when the probe last ran
        self._taken: dict[str, ProbeTiming] = {}  # by check key: the probe whose facts a test took
        self._contexts: dict[str, ProbeContext] = {}  # by probe key: what its probe has done so far
        self._lock = threading.Lock()

    def _run(self, check: CheckItem) -> Any:
        """Run the probe and record when (wall-clock start, stop measured with a monotonic clock)."""
        ctx = self._context(check)
        started, clock = time.time(), time.perf_counter()
        try:
            return run_probe(check, ctx)
        finally:
            stopped = started + (time.perf_counter() - clock)
            with self._lock:
                self._ran[check.probe_key] = ProbeTiming(started, stopped)

    async def _run_async(self, check: CheckItem, probe: AsyncProbe) -> Any:
        assert self._gate is not None
        async with self._gate:
            ctx = self._context(check)
            started, clock = time.time(), time.perf_counter()
            try:
                return await probe(check.entry, ctx)
            finally:
                stopped = started + (time.perf_counter() - clock)
                with self._lock:
                    self._ran[check.probe_key] = ProbeTiming(started, stopped)

    def _context(self, check: CheckItem) -> ProbeContext:
        """A new context for a run of `check`'s probe, kept so that `progress` can read it."""
        ctx = probe_context(check, self.stopping)
        ctx.progress.started = time.monotonic()
        with self._lock:
            self._contexts[check.probe_key] = ctx
        return ctx

    def progress(self, check: CheckItem) -> ProbeProgress | None:
        """What the latest run of `check`'s probe has done so far (None before it started)."""
        with self._lock:
            ctx = self._contexts.get(check.probe_key)
        return ctx.progress if ctx is not None else None

    def _async_probe(self, check: CheckItem) -> AsyncProbe | None:
        """The kind's probe for the event loop, when `prefetch` chose the loop for this kind."""
        return self._async_probes.get(check.kind.name)

    def submit(self, check: CheckItem) -> Future[Any]:
        with self._lock:
            future = self._futures.get(check.probe_key)
            if future is None:
                probe = self._async_probe(check)
                if probe is None:
                    future = self._executor.submit(partial(self._run, check))
                else:
                    if self._loop is None:
                        import asyncio  # only a run with many http checks needs it (~30 ms to import)

                        from opsverify.asyncrun import LoopThread

                        self._loop = LoopThread("opsverify-probe-loop")
                        self._gate = asyncio.Semaphore(self.loop_workers)
                    future = self._loop.submit(self._run_async(check, probe))
                self._futures[check.probe_key] = future
            return future

    def started(self, check: CheckItem) -> bool:
        """Whether `check`'s probe was submitted (by `prefetch` or a test that asked for it)."""
        with self._lock:
            return check.probe_key in self._futures

    def prefetch(self, checks: list[CheckItem]) -> int:
        """Submit every live check; returns how many were started."""
        live = [c for c in checks if c.kind.live]
        counts = Counter(c.kind.name for c in live)
        with library_imports():  # the probes' modules and libraries: long-lived (startup.py)
            for kind in {c.kind.name: c.kind for c in live}.values():
                kind.load_probe()  # import probe modules (and the libraries' loggers) here, not in the threads
                # On the loop only when the threads would need more than one round: fewer wait as well in
                # threads, without importing the asynchronous client (~0.12 s) into a short run.
                if counts[kind.name] > self.workers and kind.probe_async:
                    self._async_probes[kind.name] = kind.load_probe_async()
        for check in live:
            self.submit(check)  # the rules of one entry share its probe (one submit per probe key)
        return len(live)

    def result(self, check: CheckItem, watch: Callable[[float], None] | None = None) -> Any:
        """Facts of `check`: from the pool for live kinds, run here and now for the others.

        `watch(seconds)` is called about every WATCH_TICK seconds while this thread waits for them.
        """
        clock = time.perf_counter()
        try:
            if not check.kind.live:
                return self._run(check)
            future = self.submit(check)
            if watch is not None:
                while not wait([future], timeout=WATCH_TICK).done:
                    watch(time.perf_counter() - clock)
            return future.result()
        finally:
            waited = time.perf_counter() - clock
            with self._lock:
                ran = self._ran.get(check.probe_key)
                if ran is not None:
                    self._taken[check.key] = ProbeTiming(ran.started, ran.stopped, waited)

    def take_timing(self, check: CheckItem) -> ProbeTiming | None:
        """When the probe ran whose facts a test of `check` took since the last call; None if none did."""
        with self._lock:
            return self._taken.pop(check.key, None)

    def stop(self) -> None:
        """The run is stopping (Ctrl-C, SIGTERM): end every wait, cancel what has not started, close the loop."""
        self.stopping.set()
        self.shutdown(timeout=0.5)

    def shutdown(self, timeout: float = 5.0) -> None:
        self.stopping.set()  # the run is over: a probe still polling has nobody to report to
        self._executor.shutdown()
        if self._loop is not None:
            self._loop.close(timeout)
