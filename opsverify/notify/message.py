"""A notification as channels receive it: what happened on which target, per check, with a plain-text body."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from opsverify.redaction import redact, redact_data
from opsverify.results import CheckResult
from opsverify.units import format_duration, plural

MessageStatus = Literal["failed", "resolved", "passed", "completed"]


@dataclass
class Message:
    """One message of one route for one run. Channels render it; they never decide what it says."""

    status: MessageStatus
    target: str
    tiers: tuple[str, ...]
    route: str
    failures: list[CheckResult] = field(default_factory=list)
    resolved: list[CheckResult] = field(default_factory=list)
    new: frozenset[str] = frozenset()
    counts: dict[str, int] = field(default_factory=dict)
    run_id: str = ""
    duration: float = 0.0
    report_url: str | None = None

    @property
    def event(self) -> str:
        """What the message tells: `failed` (a new failure), `reminder` (failures alerted before, sent
        again), `resolved`, `passed` or `completed`."""
        if self.status == "failed" and self.failures and not self.new:
            return "reminder"
        return self.status

    @property
    def tier_label(self) -> str:
        return ", ".join(self.tiers) if self.tiers else "all tiers"

    @property
    def headline(self) -> str:
        """`[FAILED] cleaning-prod smoke: 2 of 14 checks failed` (the e-mail subject, Slack fallback text)."""
        total, failed, passed = self.counts.get("total", 0), self.counts.get("failed", 0), 0
        passed = self.counts.get("passed", 0)
        checks = plural(total, "check")
        if self.status == "failed":
            text = f"{len(self.failures)} of {checks} failed"
            if self.resolved:
                text += f", {len(self.resolved)} resolved"
        elif self.status == "resolved":
            text = f"{plural(len(self.resolved), 'check')} recovered"
            text += f", {failed} still failing" if failed else f", all {checks} pass"
        elif self.status == "passed":
            text = f"all {checks} passed"
        else:
            text = f"{passed} of {checks} passed" + (f", {failed} failed" if failed else "")
        return redact(f"[{self.status.upper()}] {self.target} {self.tier_label}: {text}")

    def footer(self) -> str:
        parts = [f"run {self.run_id}", f"took {format_duration(self.duration)}"]
        if self.report_url:
            parts.append(f"report: {self.report_url}")
        return redact(" · ".join(parts))

    def failure_line(self, result: CheckResult) -> str:
        note = "new" if result.id in self.new else "still failing"
        return f"{result.id} ({result.severity}, {note}): {result.reason or 'failed'}"

    def text(self) -> str:
        """The plain-text body: e-mail text part, Apprise body, dry-run output."""
        lines = [self.headline, ""]
        if self.failures:
            lines.append("Still failing:" if self.status == "resolved" else "Failed:")
            lines += [f"  ✗ {self.failure_line(r)}" for r in self.failures]
        if self.resolved:
            lines.append("Resolved:")
            lines += [f"  ✓ {r.id} ({r.severity})" for r in self.resolved]
        if not self.failures and not self.resolved:
            lines.append(f"{plural(self.counts.get('passed', 0), 'check')} passed.")
        lines += ["", self.footer()]
        return redact("\n".join(lines))

    def html(self) -> str:
        """The HTML e-mail part: the same content as text(), as a table people can scan."""
        escape = html.escape
        rows = "".join(
            f"<tr><td style='color:#b00020'>✗</td><td><b>{escape(r.id)}</b></td>"
            f"<td>{escape(r.severity)}</td><td><pre style='margin:0;white-space:pre-wrap'>"
            f"{escape(r.reason or 'failed')}</pre></td></tr>"
            for r in self.failures
        )
        rows += "".join(
            f"<tr><td style='color:#2e7d32'>✓</td><td><b>{escape(r.id)}</b></td>"
            f"<td>{escape(r.severity)}</td><td>resolved</td></tr>"
            for r in self.resolved
        )
        table = (
            "<table cellpadding='4' style='border-collapse:collapse'>"
            "<tr><th></th><th align='left'>check</th><th align='left'>severity</th>"
            f"<th align='left'>reason</th></tr>{rows}</table>"
            if rows
            else f"<p>{escape(plural(self.counts.get('passed', 0), 'check'))} passed.</p>"
        )
        link = (
            f"<p><a href='{escape(self.report_url, quote=True)}'>Open the report</a></p>"
            if self.report_url
            else ""
        )
        body = (
            f"<html><body><h2>{escape(self.headline)}</h2>{table}{link}"
            f"<p style='color:#666'>{escape(self.footer())}</p></body></html>"
        )
        return redact(body)

    def as_json(self) -> dict[str, Any]:
        """The webhook payload: the message and the run summary of the route's checks."""
        data = {
            "status": self.status,
            "title": self.headline,
            "target": self.target,
            "tiers": list(self.tiers),
            "route": self.route,
            "run_id": self.run_id,
            "duration": round(self.duration, 3),
            "counts": self.counts,
            "failures": [{**r.as_json(), "new": r.id in self.new} for r in self.failures],
            "resolved": [r.as_json() for r in self.resolved],
            "report_url": self.report_url,
        }
        return cast(dict[str, Any], redact_data(data))
