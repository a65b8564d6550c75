"""Teardown of a drill: undo actions run last-in first-out, also on Ctrl-C and SIGTERM."""

from __future__ import annotations

import shutil
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from opsverify.drills.sandbox import Sandbox


class DrillInterrupted(BaseException):
    """SIGTERM arrived during a drill: unwind (tearing the sandbox down), then terminate as asked."""


class Teardown:
    """Undo actions, run last-in first-out; each failure is reported, none stops the others."""

    def __init__(self) -> None:
        self._actions: list[tuple[str, Callable[[], str | None]]] = []

    def add(self, what: str, action: Callable[[], str | None]) -> None:
        self._actions.append((what, action))

    def __bool__(self) -> bool:
        return bool(self._actions)

    def run(self) -> list[str]:
        problems = []
        while self._actions:
            what, action = self._actions.pop()
            try:
                problem = action()
            except Exception as exc:  # noqa: BLE001 - teardown must reach every resource
                problem = f"{what}: {exc}"
            if problem:
                problems.append(problem)
        return problems


@contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """Turn SIGTERM into an exception for the drill's duration so teardown runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    received: list[int] = []

    def interrupt(signum: int, _frame: object) -> None:
        if not received:  # the first SIGTERM unwinds; repeats must not cut the teardown short
            received.append(signum)
            raise DrillInterrupted(signal.Signals(signum).name)

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def stop_sandbox(sandbox: Sandbox) -> None:
    sandbox.stop()


def remove_folder(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
