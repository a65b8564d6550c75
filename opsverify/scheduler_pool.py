"""Concurrent execution of live probes ahead of their tests (a bounded thread pool)."""

from __future__ import annotations

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


class ProbePool:
    """Starts probes early so a run costs about its slowest probe; tests then collect the facts."""

    def __init__(self, workers: int) -> None:
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
