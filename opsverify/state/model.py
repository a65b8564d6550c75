"""What the store keeps of a check for alerting (a leaf: imports nothing of opsverify)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class CheckState:
    """What the policy remembers of one check."""

    failures: int = 0  # consecutive failing runs
    alerted_at: float | None = None  # when its failure was last sent (None: not alerted / resolved)
    status: str = "passed"
    last_run: float = 0.0
    recent: str = ""  # the last outcomes, oldest first: F failed, P passed (for `failure_threshold: N of M`)


@dataclass
class NotifyState:
    """The notification state of one target's checks."""

    checks: dict[str, CheckState] = field(default_factory=dict)

    def check(self, check_id: str) -> CheckState:
        return self.checks.setdefault(check_id, CheckState())


@dataclass(frozen=True)
class StoredResult:
    """One check result of one run, as the store keeps it (reason and figures redacted)."""

    run_id: str
    target: str
    check_id: str
    status: str
    duration: float
    finished: float
    reason: str = ""
    figures: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class DrillRecord:
    """The evidence record of one restore drill (the line drills.jsonl has), as the store keeps it."""

    run_id: str
    target: str
    check_id: str  # restore:<entry>
    started: float  # epoch seconds
    record: dict[str, Any] = field(default_factory=dict)
