"""The probe pool's thread safety towards pytest's own machinery."""

from __future__ import annotations

import logging
import threading

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
