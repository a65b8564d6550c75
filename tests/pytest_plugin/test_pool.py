"""The probe pool's thread safety towards pytest's own machinery."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from opsverify.pytest_plugin.pool import ProbePool

LOGGERS = 3000


def walk_while_another_thread_adds(
    registry: Mapping[str, Any], add: Callable[[int], None]
) -> tuple[int, int]:
    """Walk `registry.values()` over and over while a second thread calls `add(n)` for n < LOGGERS.

    Both threads start together (a barrier), and each walk hands the GIL over at every entry (`sleep(0)`),
    so the other thread adds entries in the middle of every walk: the race is certain, not a matter of luck.
    Returns (walks, entries added).
    """
    barrier = threading.Barrier(2)
    added = 0

    def adder() -> None:
        nonlocal added
        barrier.wait()
        for number in range(LOGGERS):
            add(number)
            added += 1
            time.sleep(0)

    thread = threading.Thread(target=adder)
    thread.start()
    walks = 0
    try:
        barrier.wait()
        while thread.is_alive():
            for _value in registry.values():
                time.sleep(0)
            walks += 1
    finally:
        thread.join()
    return walks, added


def test_the_walk_races_with_a_plain_dict() -> None:
    """The control: the same walk over a plain dict dies, so the test below would fail without the fix."""
    plain: dict[str, int] = {"first": 0}
    with pytest.raises(RuntimeError, match="dictionary changed size during iteration"):
        walk_while_another_thread_adds(plain, lambda number: plain.__setitem__(f"key-{number}", number))


def test_the_logger_registry_can_be_walked_while_probe_threads_create_loggers() -> None:
    """pytest's log capture walks loggerDict each test phase; a probe importing a library adds loggers."""
    ProbePool(1).shutdown()
    prefix = f"opsverify.tests.race.{uuid.uuid4().hex}"
    registry = logging.root.manager.loggerDict
    walks, added = walk_while_another_thread_adds(
        registry, lambda number: logging.getLogger(f"{prefix}.{number}")
    )
    assert added == LOGGERS
    assert walks >= 1
    assert sum(1 for name in registry if name.startswith(f"{prefix}.")) == LOGGERS


def test_the_daemon_pool_runs_calls_on_at_most_its_workers_and_cancels_the_queue_at_shutdown() -> None:
    from opsverify.pytest_plugin.pool import DaemonThreadPool

    pool = DaemonThreadPool(2, "test-pool")
    release = threading.Event()
    running: list[str] = []

    def blocked() -> str:
        running.append(threading.current_thread().name)
        release.wait(60)
        return "done"

    def broken() -> None:
        raise ValueError("probe bug")

    first, second, queued = pool.submit(blocked), pool.submit(blocked), pool.submit(broken)
    while len(running) < 2:
        release.wait(0.01)
    assert all(thread.daemon for thread in threading.enumerate() if thread.name.startswith("test-pool"))
    assert not queued.running()  # both workers are busy: the third call waits in the queue
    pool.shutdown()
    assert queued.cancelled()
    assert pool.submit(blocked).cancelled()  # nothing starts after shutdown
    release.set()
    assert first.result(timeout=60) == second.result(timeout=60) == "done"
    errors = DaemonThreadPool(1, "test-pool-errors")
    with pytest.raises(ValueError, match="probe bug"):
        errors.submit(broken).result(timeout=60)
    errors.shutdown()


def test_a_stopping_run_ends_a_probes_pause_at_once() -> None:
    from opsverify.kinds.base import ProbeContext, ProbeStopped

    ctx = ProbeContext("t")
    ctx.pause(0)  # not stopping: returns
    ctx.stop.set()
    with pytest.raises(ProbeStopped):
        ctx.pause(3600)
