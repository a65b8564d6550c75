"""What a restore drill observed: its timed steps, the backup it restored, what verifying the copy found (a leaf).

`DrillFacts.record` is the evidence line the probe wrote to reports/drills.jsonl.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opsverify.drills.restore import RestoreResult
from opsverify.drills.verification import Verification
from opsverify.kinds.backups.facts import BackupFacts
from opsverify.units import format_duration, format_size

__all__ = ["DrillFacts", "DrillStep", "Verification"]


@dataclass
class DrillStep:
    """One timed step of a drill (find, integrity, sandbox, restore, verify, teardown)."""

    name: str
    seconds: float = 0.0
    ok: bool = True
    detail: str = ""


@dataclass
class DrillFacts:
    """Everything a drill observed; `record` is the evidence line written to drills.jsonl."""

    target: str
    entry: str
    started_at: float = field(default_factory=time.time)
    backup: BackupFacts | None = None
    sandbox: str | None = None
    sandbox_detail: str | None = None
    sandbox_notes: list[str] = field(default_factory=list)
    database: str | None = None
    reaped: list[str] = field(default_factory=list)
    steps: list[DrillStep] = field(default_factory=list)
    restore: RestoreResult | None = None
    verification: Verification = field(default_factory=Verification)
    verified: bool = False
    one_pass: bool = False  # the backup was checked in the read that restored it (large plain dumps)
    rto_seconds: float = 0.0
    error: str | None = None
    interrupted: bool = False
    teardown_problems: list[str] = field(default_factory=list)
    evidence_path: Path | None = None
    record: dict[str, Any] = field(default_factory=dict)

    @contextmanager
    def step(self, name: str) -> Iterator[DrillStep]:
        """Time one step; it is marked failed when it raises or sets `ok = False`."""
        step = DrillStep(name)
        self.steps.append(step)
        started = time.monotonic()
        try:
            yield step
        except BaseException:
            step.ok = False
            raise
        finally:
            step.seconds = time.monotonic() - started

    def fail(self, message: str) -> None:
        if self.steps:
            self.steps[-1].ok = False
        self.error = self.error or message

    @property
    def seconds(self) -> float:
        return sum(step.seconds for step in self.steps)

    def step_seconds(self) -> dict[str, float]:
        return {step.name: round(step.seconds, 3) for step in self.steps}

    def restore_log(self) -> str:
        return self.restore.log.text() if self.restore is not None else ""

    def evidence(self) -> str:
        """Lines shown under a failed drill and attached to the report."""
        lines = []
        backup = self.backup.newest if self.backup is not None else None
        if backup is not None:
            lines.append(f"backup {backup.path} ({format_size(backup.size)})")
        if self.backup is not None and self.backup.inspection is not None:
            lines.append(f"integrity: {self.backup.inspection.summary()}")
        if self.sandbox_detail:
            lines.append(
                f"sandbox: {self.sandbox_detail}" + (f", database {self.database}" if self.database else "")
            )
        lines += [f"  (not used) {note}" for note in self.sandbox_notes]
        for step in self.steps:
            mark = "ok" if step.ok else "FAILED"
            lines.append(
                f"step {step.name}: {format_duration(step.seconds)} {mark}{' — ' + step.detail if step.detail else ''}"
            )
        if self.verified:
            lines.append(f"RTO measured: {format_duration(self.rto_seconds)}")
        lines += [f"teardown: {problem}" for problem in self.teardown_problems]
        log = self.restore_log()
        if self.restore is not None and not self.restore.ok and log:
            lines.append("restore log (first lines):")
            lines += [f"  {line}" for line in log.splitlines()[:12]]
        return "\n".join(lines)
