"""The outcome of a run, check by check: built on the controller from test reports, written to summary.json.

Notifications, the terminal summary and summary.json all read this one model, so they always agree.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from opsverify.redaction import redact, redact_data

Outcome = Literal["passed", "failed", "skipped"]
REASON_LIMIT = 2000
DETAILS_LIMIT = 8000
_XDIST_HEADER = re.compile(r"^\[gw\d+\] .*\n")  # "[gw1] linux -- Python 3.11 ..." before a worker's failure


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


def split_failure_text(text: str) -> tuple[str, str]:
    """(reason, details) of a failure without structured problems (a hand-written check): its error line."""
    text = redact(_XDIST_HEADER.sub("", text.strip(), count=1))
    lines = text.splitlines()
    error_lines = [line[1:].strip() for line in lines if line.startswith("E ")]
    reason = error_lines[0] if error_lines else (lines[0].strip() if lines else "")
    if error_lines and len(error_lines) > 1 and len(reason) < 60:
        reason = " ".join(error_lines[:3])
    return _cap(reason, REASON_LIMIT), _cap(text, DETAILS_LIMIT)


def _cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (readers never see half a file); the content is redacted once more."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(redact_data(data), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(temporary, path)
