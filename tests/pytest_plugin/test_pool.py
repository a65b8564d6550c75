"""The probe pool's thread safety towards pytest's own machinery."""

from __future__ import annotations

import logging
import threading

import pytest

from opsverify.pytest_plugin.pool import ProbePool


def test_the_logger_registry_can_be_walked_while_probe_threads_create_loggers() -> None:
    """pytest's log capture walks loggerDict each test phase; a probe importing a library adds loggers."""
    ProbePool(1).shutdown()
    stop = threading.Event()

    def create_loggers() -> None:
        for number in range(20_000):
            if stop.is_set():
                return
            logging.getLogger(f"opsverify.tests.race.{number}")

    creator = threading.Thread(target=create_loggers)
    creator.start()
    try:
        for _ in range(500):
            for _logger in logging.root.manager.loggerDict.values():
                pass
    finally:
        stop.set()
        creator.join()


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
