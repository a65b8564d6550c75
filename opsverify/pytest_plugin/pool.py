"""Concurrent execution of live probes ahead of their tests (a bounded thread pool)."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from opsverify.config.target import CheckItem
from opsverify.kinds.base import ProbeContext


def run_probe(check: CheckItem) -> Any:
    """Run the probe of `check`'s kind against its entry."""
    probe = check.kind.load_probe()
    context = ProbeContext(
        check.target.name, check.target.base_dir, target=check.target, entry_name=check.name
    )
    return probe(check.entry, context)


@dataclass(frozen=True)
class ProbeTiming:
    """When a check's probe ran (wall clock, seconds since the epoch) and how long its test waited for it.

    Probes of live kinds run in the pool ahead of their tests, so a test's own phases see only the wait
    (often none); the reports add the probe's duration to the check's (opsverify.report.session).
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
    """Starts probes early so a run costs about its slowest probe; tests then collect the facts."""

    def __init__(self, workers: int) -> None:
        make_logger_registry_thread_safe()
        self.workers = workers
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="opsverify-probe")
        self._futures: dict[str, Future[Any]] = {}
        self._ran: dict[str, ProbeTiming] = {}  # by probe key: when the probe last ran
        self._taken: dict[str, ProbeTiming] = {}  # by check key: the probe whose facts a test took
        self._lock = threading.Lock()

    def _run(self, check: CheckItem) -> Any:
        """Run the probe and record when (wall-clock start, stop measured with a monotonic clock)."""
        started, clock = time.time(), time.perf_counter()
        try:
            return run_probe(check)
        finally:
            stopped = started + (time.perf_counter() - clock)
            with self._lock:
                self._ran[check.probe_key] = ProbeTiming(started, stopped)

    def submit(self, check: CheckItem) -> Future[Any]:
        with self._lock:
            future = self._futures.get(check.probe_key)
            if future is None:
                future = self._executor.submit(self._run, check)
                self._futures[check.probe_key] = future
            return future

    def prefetch(self, checks: list[CheckItem]) -> int:
        """Submit every live check; returns how many were started."""
        live = [c for c in checks if c.kind.live]
        for kind in {c.kind.name: c.kind for c in live}.values():
            kind.load_probe()  # import probe modules (and the libraries' loggers) here, not in the threads
        for check in live:
            self.submit(check)  # the rules of one entry share its probe (one submit per probe key)
        return len(live)

    def result(self, check: CheckItem) -> Any:
        """Facts of `check`: from the pool for live kinds, run here and now for the others."""
        clock = time.perf_counter()
        try:
            if not check.kind.live:
                return self._run(check)
            return self.submit(check).result()
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

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
