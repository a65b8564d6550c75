"""Ctrl-C and SIGTERM: the run ends at once -- every wait, the probe pool, the event loop -- and says so.

pytest turns Ctrl-C (SIGINT) into KeyboardInterrupt: it stops the tests, writes the summaries and ends.
SIGTERM (a CI job cancelled, `docker stop`, systemd) is made to do the same instead of killing the process
with nothing written. Either way the probes still waiting are stopped here, before the run's end writes
summary.json with `status: interrupted` and the checks that had finished.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

import pytest

from opsverify.pytest_plugin.targets import POOL

INTERRUPTED = pytest.StashKey[str]()  # what stopped the run: "SIGINT", "SIGTERM" or "pytest.exit"


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so that pytest ends the run as it does on Ctrl-C."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    # Once: a second SIGTERM (the sender insists) terminates at once, as it would have without opsverify.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise Terminated("SIGTERM")


class InterruptWatch:
    """Stops the probe pool the moment pytest sees the interruption, and records which one it was."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @pytest.hookimpl(tryfirst=True)
    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        if not self.config.option.fulltrace:
            _keep_the_shown_line(excinfo)
        value = excinfo.value
        name = "SIGTERM" if isinstance(value, Terminated) else "SIGINT"
        self.config.stash[INTERRUPTED] = name if isinstance(value, KeyboardInterrupt) else "pytest.exit"
        pool = self.config.stash.get(POOL, None)
        if pool is not None:
            pool.stop()


def _keep_the_shown_line(excinfo: pytest.ExceptionInfo[BaseException]) -> None:
    """Cut the traceback to the entry pytest shows (the last one not hidden).

    Without --full-trace pytest prints one line of an interruption, but first renders the whole traceback
    with its sources: ~2 s on a loaded machine, between the signal and the end of the run.
    """
    entries = excinfo.traceback
    for index in range(len(entries) - 1, -1, -1):
        if not entries[index].ishidden(excinfo):
            excinfo.traceback = entries[index:]
            return


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(InterruptWatch(config), "opsverify-interrupt")
    if hasattr(config, "workerinput") or threading.current_thread() is not threading.main_thread():
        return  # an xdist worker ends with its controller; signals are the main thread's
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return  # someone else's handler (a CI wrapper, a conftest.py): theirs to keep
    previous: Any = signal.signal(signal.SIGTERM, _raise_terminated)

    def restore() -> None:
        signal.signal(signal.SIGTERM, previous)

    config.add_cleanup(restore)


def interrupted_by(config: pytest.Config) -> str | None:
    """ "SIGINT", "SIGTERM" or "pytest.exit" when the run was interrupted, else None."""
    return config.stash.get(INTERRUPTED, None)
