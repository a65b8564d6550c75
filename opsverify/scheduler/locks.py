"""One lock per job, so a job never runs twice at once: across the scheduler, `--once` and a second scheduler.

The lock is an flock on `<state_dir>/locks/<job>.lock`, and the file holds the PID of the run for people and
for the log. The run's process inherits the locked descriptor, so the lock lives exactly as long as the run or
the scheduler that started it; the kernel drops it when both are gone. A lock file left by a dead process is
therefore never held, and the next run simply takes it over.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any


class JobLock:
    """An exclusive, non-blocking lock for one job."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock if nobody holds it; False when a live process does."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    def record(self, **holder: Any) -> None:
        """Write who holds the lock (pid, job, started) into the file."""
        assert self.fd is not None, "record() needs the lock"
        data = (json.dumps(holder, sort_keys=True) + "\n").encode()
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, data, 0)

    def holder(self) -> dict[str, Any]:
        """What the lock file says about its holder (read it when acquire() failed)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def release(self) -> None:
        if self.fd is None:
            return
        try:
            os.ftruncate(self.fd, 0)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            os.close(self.fd)
            self.fd = None


def describe_holder(holder: dict[str, Any]) -> str:
    parts = [f"pid {holder['pid']}" if holder.get("pid") else "another process"]
    if holder.get("started"):
        parts.append(f"since {holder['started']}")
    if holder.get("trigger"):
        parts.append(f"({holder['trigger']})")
    return " ".join(parts)
