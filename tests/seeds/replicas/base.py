"""What every seed replica has: a folder of its files, the variables its target file reads, failure states."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path


class Replica:
    """A running stand-in for one seed system.

    `env` holds the values of the ${VARS} its target file reads. `healthy()` puts everything back in order
    (cheaply: tests toggle states many times on one replica); each failure state is a method named after
    the guide's troubleshooting entry and listed in `failure_states`.
    """

    name = "replica"
    # failure states that touch the backup files: only after these are the backups made again
    backup_states: frozenset[str] = frozenset()

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.env: dict[str, str] = {}
        self._cleanups: list[Callable[[], None]] = []
        self.backups_dirty = True

    def on_stop(self, cleanup: Callable[[], None]) -> None:
        self._cleanups.append(cleanup)

    def healthy(self) -> None:
        """Everything in order; backups (made with the real, slower tools) only when a state broke them."""
        self.reset()
        if self.backups_dirty:
            self.reset_backups()
            self.backups_dirty = False

    def reset(self) -> None:
        raise NotImplementedError

    def reset_backups(self) -> None:
        raise NotImplementedError

    def failure_states(self) -> dict[str, Callable[[], None]]:
        return {}

    def enter(self, state: str) -> None:
        """Back to healthy, then into the named failure state."""
        self.healthy()
        if state != "healthy":
            self.backups_dirty = state in self.backup_states
            self.failure_states()[state]()

    def stop(self) -> None:
        while self._cleanups:
            cleanup = self._cleanups.pop()
            cleanup()
