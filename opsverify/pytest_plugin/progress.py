"""A test that waits long for its probe says so: what it waits for and for how long.

A run otherwise sits silent while, say, `wait_until_ready: 60s` polls a port where nothing runs yet. Once a
test has waited NOTICE_AFTER seconds for its probe's facts, a line names the check, where it looks, the wait's
limit and what the last attempt found. On a terminal a new line follows every EVERY seconds; in a CI log (no
terminal) only that first line and, when the facts are in, one line saying how the wait ended. (Not under
pytest-xdist: a worker's output reaches no terminal.)
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import pytest

from opsverify.config.target import CheckItem
from opsverify.pytest_plugin.pool import ProbePool
from opsverify.redaction import redact
from opsverify.units import format_duration

NOTICE_AFTER = 3.0  # seconds a test waits for its probe before the first line
EVERY = 5.0  # on a terminal: seconds between lines
LAST_WIDTH = 160  # characters of the last attempt's finding shown


class WaitNotice:
    """The `watch` of `ProbePool.result` for one test: prints the wait's lines (see the module)."""

    def __init__(self, config: pytest.Config, pool: ProbePool, check: CheckItem) -> None:
        # An xdist worker's output is nobody's terminal (its stdout may be the channel to the controller).
        worker = hasattr(config, "workerinput")
        self.reporter: Any = None if worker else config.pluginmanager.get_plugin("terminalreporter")
        self.capture: Any = config.pluginmanager.get_plugin("capturemanager")
        self.pool, self.check = pool, check
        self.tty = bool(getattr(self.reporter, "isatty", False))
        self.shown: float | None = None  # seconds waited at the last line
        self.waited = 0.0

    def __call__(self, waited: float) -> None:
        self.waited = waited
        if waited < NOTICE_AFTER or self.reporter is None:
            return
        if self.shown is None or (self.tty and waited - self.shown >= EVERY):
            self.shown = waited
            self._write(self.waiting_line())

    def finished(self, facts: Any) -> None:
        """The facts are in: after a wait that was shown, say how it ended."""
        if self.shown is not None:
            self._write(self.end_line(facts))

    def elapsed(self) -> float:
        """Seconds since the probe started (it may have started long before this test), else waited."""
        progress = self.pool.progress(self.check)
        started = progress.started if progress is not None else None
        return max(self.waited, time.monotonic() - started) if started is not None else self.waited

    def waiting_line(self) -> str:
        entry = self.check.entry
        limit = getattr(entry, "wait_until_ready", None)
        timeout = getattr(entry, "timeout", None)
        where = f" ({self.where()})" if self.where() else ""
        spent = format_duration(self.elapsed())
        if limit is not None:
            text = (
                f"waiting for {self.check.id}{where} to be ready: {spent} of up to {format_duration(limit)}"
            )
        else:
            bound = f" (timeout {format_duration(timeout)})" if isinstance(timeout, int | float) else ""
            text = f"waiting for {self.check.id}{where}: {spent} so far{bound}"
        progress = self.pool.progress(self.check)
        last = " ".join((progress.last if progress is not None else "").split())
        if last:
            text += f"; last: {last if len(last) <= LAST_WIDTH else last[: LAST_WIDTH - 1] + '…'}"
        return f"opsverify: {text}"

    def end_line(self, facts: Any) -> str:
        spent = format_duration(self.elapsed())
        ready = getattr(facts, "ready", None)
        if ready is True:
            return f"opsverify: {self.check.id} is ready after {spent}"
        if ready is False:
            return f"opsverify: {self.check.id} was not ready after {spent}"
        return f"opsverify: {self.check.id}: done waiting after {spent}"

    def where(self) -> str:
        entry = self.check.entry
        url = getattr(entry, "url", None)
        if isinstance(url, str):
            method = getattr(entry, "method", None)
            return f"{method} {url}" if isinstance(method, str) else url
        host, port = getattr(entry, "host", None), getattr(entry, "port", None)
        if isinstance(host, str):
            return f"{host}:{port}" if isinstance(port, int) else host
        return ""

    def _write(self, text: str) -> None:
        """One line on the terminal, past pytest's capture (this runs inside the test's call phase)."""
        suspended = self.capture.global_and_fixture_disabled() if self.capture else contextlib.nullcontext()
        with suspended:
            self.reporter.ensure_newline()
            self.reporter.write_line(redact(text))
