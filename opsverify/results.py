"""The result of a check and of a run, as data (a leaf): report, state, notify and the CLI all read it.

Built on the controller from the test reports by the run-end plugin; summary.json, the terminal summary,
notifications and the state store all read this one model, so they always agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, cast

from opsverify.redaction import redact_data

Outcome = Literal["passed", "failed", "skipped"]


@dataclass
class CheckResult:
    """One check (one test) of one run: what it is, how it ended, and why it failed (redacted)."""

    target: str
    kind: str
    name: str
    tiers: tuple[str, ...] = ()
    severity: str = "normal"
    status: Outcome = "passed"
    reason: str = ""
    details: str = ""
    duration: float = 0.0
    nodeid: str = ""
    problems: list[dict[str, str]] = field(default_factory=list)  # structured: subject, expected, found, fix
    depends_on: tuple[str, ...] = ()
    note: str = ""  # why a failure sent nothing: "blocked by postgres:main", "silenced until ..."
    figures: dict[str, float] = field(default_factory=dict)  # latency_ms, backup_bytes, rto_s, ...
    warnings: list[str] = field(default_factory=list)  # never a failure: an RTO near its target, rising

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.name}"

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    def as_json(self) -> dict[str, Any]:
        """The fields in their order, then `id` (field by field: `dataclasses.asdict`'s deep copy cost
        ~0.1 ms per check, a tenth of a second at the end of a 1000-check run)."""
        return {
            "target": self.target,
            "kind": self.kind,
            "name": self.name,
            "tiers": list(self.tiers),
            "severity": self.severity,
            "status": self.status,
            "reason": self.reason,
            "details": self.details,
            "duration": round(self.duration, 3),
            "nodeid": self.nodeid,
            "problems": [dict(problem) for problem in self.problems],
            "depends_on": list(self.depends_on),
            "note": self.note,
            "figures": dict(self.figures),
            "warnings": list(self.warnings),
            "id": self.id,
        }


@dataclass
class RunSummary:
    """Every check result of a run plus when, where and how it ran."""

    run_id: str
    started: float
    finished: float = 0.0
    targets: list[str] = field(default_factory=list)
    tiers: list[str] = field(default_factory=list)
    results: list[CheckResult] = field(default_factory=list)
    exit_status: int = 0
    report_url: str | None = None
    empty_reason: str | None = None  # why the run selected no check
    interrupted: str | None = None  # "SIGINT", "SIGTERM": the run was stopped; results are what had finished

    @property
    def duration(self) -> float:
        return max(0.0, self.finished - self.started)

    def of_target(self, target: str) -> list[CheckResult]:
        return [r for r in self.results if r.target == target]

    @property
    def failures(self) -> list[CheckResult]:
        return [r for r in self.results if r.failed]

    def counts(self, results: list[CheckResult] | None = None) -> dict[str, int]:
        chosen = self.results if results is None else results
        counts = {"total": len(chosen), "passed": 0, "failed": 0, "skipped": 0}
        for result in chosen:
            counts[result.status] += 1
        return counts

    @property
    def status(self) -> str:
        """interrupted, failed, passed, or "no checks" for a run that checked nothing (never "passed")."""
        if self.interrupted:
            return "interrupted"
        if self.failures:
            return "failed"
        if not any(r.status == "passed" for r in self.results):
            return "no checks"
        return "passed"

    def as_json(self) -> dict[str, Any]:
        data = {
            "run_id": self.run_id,
            "target": ", ".join(self.targets),
            "targets": self.targets,
            "tiers": self.tiers,
            "started": _iso(self.started),
            "finished": _iso(self.finished),
            "duration": round(self.duration, 3),
            "exit_status": self.exit_status,
            "status": self.status,
            "counts": self.counts(),
            "failures": [r.as_json() for r in self.failures],
            "warnings": [
                {"target": r.target, "id": r.id, "text": w} for r in self.results for w in r.warnings
            ],
            "checks": [r.as_json() for r in self.results],
            "report_url": self.report_url,
            **({"empty_reason": self.empty_reason} if self.empty_reason else {}),
            **({"interrupted": self.interrupted} if self.interrupted else {}),
        }
        return cast(dict[str, Any], redact_data(data))


def _iso(timestamp: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
