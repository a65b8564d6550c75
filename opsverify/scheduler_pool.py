"""Concurrent execution of live probes ahead of their tests (a bounded thread pool)."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from opsverify.config.target import CheckItem
from opsverify.probes.base import ProbeContext


def run_probe(check: CheckItem) -> Any:
    """Run the probe of `check`'s kind against its entry."""
    probe = check.kind.load_probe()
    context = ProbeContext(
        check.target.name, check.target.base_dir, target=check.target, entry_name=check.name
    )
    return probe(check.entry, context)


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
        self._lock = threading.Lock()

    def submit(self, check: CheckItem) -> Future[Any]:
        with self._lock:
            future = self._futures.get(check.key)
            if future is None:
                future = self._executor.submit(run_probe, check)
                self._futures[check.key] = future
            return future

    def prefetch(self, checks: list[CheckItem]) -> int:
        """Submit every live check; returns how many were started."""
        live = [c for c in checks if c.kind.live]
        for kind in {c.kind.name: c.kind for c in live}.values():
            kind.load_probe()  # import probe modules (and the libraries' loggers) here, not in the threads
        for check in live:
            self.submit(check)
        return len(live)

    def result(self, check: CheckItem) -> Any:
        """Facts of `check`: from the pool for live kinds, run here and now for the others."""
        if not check.kind.live:
            return run_probe(check)
        return self.submit(check).result()

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
