"""The terminal summary: per target the counts, every failure with its reason, notification outcomes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from opsverify.redaction import redact
from opsverify.results import RunSummary
from opsverify.units import format_duration, plural

if TYPE_CHECKING:
    from opsverify.notify.delivery import DeliveryRecord

REASON_WIDTH = 300


@dataclass
class Line:
    text: str
    markup: dict[str, bool] = field(default_factory=dict)


def summary_lines(
    summary: RunSummary,
    records: list[DeliveryRecord],
    problems: list[str],
    written: list[Path],
    notify_note: str | None = None,
) -> list[Line]:
    lines: list[Line] = []
    if summary.interrupted:
        lines.append(
            Line(
                f"run interrupted ({summary.interrupted}): the counts are of the checks that had finished",
                {"yellow": True, "bold": True},
            )
        )
    for target in summary.targets or [""]:
        results = summary.of_target(target) if target else summary.results
        counts = summary.counts(results)
        tiers = ", ".join(summary.tiers) or "all tiers"
        state = f"{counts['passed']} passed, {counts['failed']} failed"
        if counts["skipped"]:
            state += f", {counts['skipped']} skipped"
        checks = plural(counts["total"], "check")
        head = f"target {target} [{tiers}]: {checks}: {state} in {format_duration(summary.duration)}"
        checked = counts["passed"] + counts["failed"] > 0
        green = checked and not counts["failed"]
        lines.append(
            Line(head, {"bold": True, "red": bool(counts["failed"]), "green": green, "yellow": not checked})
        )
        for result in results:
            if result.failed:
                reason = result.reason.replace("\n", " ")
                if len(reason) > REASON_WIDTH:
                    reason = reason[: REASON_WIDTH - 1] + "…"
                note = f" [{result.note}]" if result.note else ""
                lines.append(Line(f"  FAILED {result.id} ({result.severity}){note}: {reason}", {"red": True}))
        for result in results:
            for warning in result.warnings:
                lines.append(Line(f"  WARNING {result.id}: {warning}", {"yellow": True}))
    if summary.empty_reason:
        lines.append(Line(f"no checks selected: {summary.empty_reason}", {"yellow": True, "bold": True}))
    if notify_note:
        lines.append(Line(f"notifications: {notify_note}", {"yellow": True}))
    for record in records:
        lines.append(_record_line(record))
    for problem in problems:
        lines.append(Line(f"opsverify: {problem}", {"red": True}))
    if written:
        lines.append(Line("written: " + ", ".join(str(p) for p in written)))
    return [Line(redact(line.text), line.markup) for line in lines]


def _record_line(record: DeliveryRecord) -> Line:
    what = f"{record.channel} ({record.type})" if record.kind == "message" else record.channel
    route = f" [{record.route}]" if record.route else ""
    if record.status == "sent":
        tries = f" after {record.attempts} attempts" if record.attempts > 1 else ""
        event = f"{record.event}, " if record.event else ""  # resolved, sent: what went out
        return Line(f"  notified {what}{route}: {event}sent{tries}", {"green": True})
    if record.status == "failed":
        return Line(
            f"  NOTIFY FAILED {what}{route} after {plural(record.attempts, 'attempt')}: {record.error}",
            {"red": True, "bold": True},
        )
    return Line(f"  {record.status}: {what}{route}: {record.subject or ''}".rstrip(": "))
