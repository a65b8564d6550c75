"""What the scheduler remembers between restarts: each job's next due time and its last run.

Kept in `<state_dir>/scheduler-state.json`, so a run missed while the scheduler (or the machine) was down
can be caught up on start. Writes are atomic (temp file + rename) under an flock, because `--once` and
the long-running scheduler may update it at the same time.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

STATE_FILE = "scheduler-state.json"


class StateStore:
    """A JSON file of `{job: {fingerprint, next_due, last_started, last_finished, last_exit_code, ...}}`."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / STATE_FILE

    def load(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            return {}  # a damaged state file costs at most one catch-up; never refuse to start over it
        return {k: v for k, v in data.items() if isinstance(v, dict)} if isinstance(data, dict) else {}

    def job(self, name: str) -> dict[str, Any]:
        return self.load().get(name, {})

    def update(self, name: str, **fields: Any) -> None:
        with self._locked():
            data = self.load()
            entry = data.setdefault(name, {})
            entry.update({k: v.isoformat() if isinstance(v, datetime) else v for k, v in fields.items()})
            temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            temporary.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
            os.replace(temporary, self.path)

    def remembered_due(self, name: str, fingerprint: str) -> datetime | None:
        """The next due time saved for `name`, if it was saved for the same timing."""
        entry = self.job(name)
        if entry.get("fingerprint") != fingerprint or not isinstance(entry.get("next_due"), str):
            return None
        try:
            due = datetime.fromisoformat(entry["next_due"])
        except ValueError:
            return None
        return due if due.tzinfo is not None else None

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(f".{self.path.name}.lock"), "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
