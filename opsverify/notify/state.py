"""Notification state kept across runs: consecutive failures and when each check last alerted.

One JSON file per target (`<state dir>/notify-<target>.json`), read and written under a file lock so two
runs of the same target never lose each other's updates. It holds check ids, counts and times only:
no reasons, no URLs, nothing that could be a secret.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

STATE_VERSION = 1


@dataclass
class CheckState:
    """What the policy remembers of one check."""

    failures: int = 0  # consecutive failing runs
    alerted_at: float | None = None  # when its failure was last sent (None: not alerted / resolved)
    status: str = "passed"
    last_run: float = 0.0


@dataclass
class NotifyState:
    """The state of one target's checks."""

    path: Path
    checks: dict[str, CheckState] = field(default_factory=dict)

    def check(self, check_id: str) -> CheckState:
        return self.checks.setdefault(check_id, CheckState())

    def as_json(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "updated": time.time(),
            "checks": {key: asdict(value) for key, value in sorted(self.checks.items())},
        }


def state_file(directory: Path, target: str) -> Path:
    return directory / f"notify-{target}.json"


def load_state(path: Path) -> NotifyState:
    """Read the state; a missing or unreadable file starts afresh (a broken file must not stop alerts)."""
    state = NotifyState(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return state
    for key, value in (data.get("checks") or {}).items() if isinstance(data, dict) else ():
        if isinstance(value, dict):
            known = {k: v for k, v in value.items() if k in CheckState.__dataclass_fields__}
            with contextlib.suppress(TypeError):
                state.checks[str(key)] = CheckState(**known)
    return state


def save_state(state: NotifyState) -> None:
    state.path.parent.mkdir(parents=True, exist_ok=True)
    temporary = state.path.with_name(f".{state.path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(state.as_json(), indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, state.path)


@contextlib.contextmanager
def locked_state(path: Path) -> Iterator[NotifyState]:
    """Load the state under an exclusive lock; the caller decides whether to save before leaving."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f".{path.name}.lock"), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield load_state(path)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
