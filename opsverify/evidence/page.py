"""The evidence page: one static HTML file (inline CSS and SVG plots; it loads nothing from the network)."""

from __future__ import annotations

import html
import time
from collections import defaultdict
from typing import Any

from opsverify.evidence.plots import plot_svg
from opsverify.evidence.rows import number, row_of
from opsverify.redaction import redact
from opsverify.state.model import DrillRecord
from opsverify.units import format_duration, format_size

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; font-size: 0.85em; margin-bottom: 2em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.5em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.passed { color: #176f2c; font-weight: bold; } td.failed, td.interrupted { color: #b00020; font-weight: bold; }
td.over { color: #b00020; } code { font-size: 0.9em; word-break: break-all; }
.plot svg { max-width: 100%; height: auto; }
"""


def _e(value: Any) -> str:
    return html.escape(redact("" if value is None else str(value)))


def _seconds(value: Any) -> str:
    n = number(value)
    return "" if n is None else format_duration(n)


def _against(value: Any, target: Any) -> tuple[str, bool]:
    """`12.3s of 4.0h` and whether it went over the target."""
    v, t = number(value), number(target)
    if v is None:
        return "not measured", False
    text = format_duration(v) + (f" of {format_duration(t)}" if t is not None else " (no target)")
    return text, t is not None and v > t


def _when(moment: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(moment))


def render(target: str, drills: list[DrillRecord], where: str, since: float | None) -> str:
    """The page for `drills` (oldest first, at least one)."""
    by_check: dict[str, list[DrillRecord]] = defaultdict(list)
    for drill in drills:
        by_check[drill.check_id].append(drill)
    period = f"since {_when(since)}" if since is not None else "all recorded drills"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Restore drill evidence: {_e(target)}</title><style>{STYLE}</style></head><body>",
        f"<h1>Restore drill evidence: {_e(target)}</h1>",
        f"<p>{len(drills)} drill{'s' if len(drills) != 1 else ''}, {_e(period)}; from the state store "
        f"<code>{_e(where)}</code>; written {_e(_when(time.time()))}.</p>",
        "<h2>Summary</h2>",
        '<table id="summary"><tr><th>check</th><th>drills</th><th>passed</th><th>failed</th>'
        "<th>newest</th><th>newest verdict</th><th>newest RTO</th><th>newest RPO (data lag)</th></tr>",
    ]
    for check_id, runs in sorted(by_check.items()):
        newest = runs[-1].record
        passed = sum(1 for d in runs if d.record.get("verdict") == "passed")
        rto, rto_over = _against(newest.get("rto_s"), newest.get("rto_target_s"))
        rpo, rpo_over = _against(newest.get("data_lag_s"), newest.get("rpo_target_s"))
        verdict = str(newest.get("verdict") or "")
        parts.append(
            f"<tr><td>{_e(check_id)}</td><td>{len(runs)}</td><td>{passed}</td><td>{len(runs) - passed}</td>"
            f'<td>{_e(newest.get("time"))}</td><td class="{_e(verdict)}">{_e(verdict)}</td>'
            f'<td class="{"over" if rto_over else ""}">{_e(rto)}</td>'
            f'<td class="{"over" if rpo_over else ""}">{_e(rpo)}</td></tr>'
        )
    parts.append("</table>")
    for check_id, runs in sorted(by_check.items()):
        parts.append(f"<h2>{_e(check_id)}</h2>")
        for key, target_key, what in (
            ("rto_s", "rto_target_s", "RTO (time to restore and verify)"),
            ("data_lag_s", "rpo_target_s", "RPO (data lag of the restored copy)"),
        ):
            svg = plot_svg(f"{check_id}: {what}", runs, key, target_key, what.split(" ")[0])
            name = what.split(" ")[0].lower()
            if svg is None:
                parts.append(
                    f'<p class="noplot" id="{name}-{_e(check_id)}">No drill measured its {_e(what)}.</p>'
                )
            else:
                parts.append(f'<div class="plot" id="plot-{name}-{_e(check_id)}">{svg}</div>')
    parts += [
        "<h2>Every drill, newest first</h2>",
        '<table id="drills"><tr><th>when</th><th>check</th><th>verdict</th><th>backup</th><th>sandbox</th>'
        "<th>steps</th><th>RTO vs target</th><th>RPO vs target</th><th>rows checked</th><th>problems</th></tr>",
    ]
    for drill in reversed(drills):
        parts.append(_drill_row(drill))
    parts += ["</table>", "</body></html>", ""]
    return "\n".join(parts)


def _drill_row(drill: DrillRecord) -> str:
    row = row_of(drill)
    size = number(row["backup_size"])
    backup = (
        f"<code>{_e(row['backup_file'])}</code><br>{_e(format_size(size) if size is not None else 'size unknown')}"
        f"<br>sha256 <code>{_e(row['backup_sha256'] or 'not computed')}</code>"
        if row["backup_file"]
        else "no backup found"
    )
    sandbox = _e(row["sandbox_detail"] or row["sandbox"] or "none")
    if row["restore_program"]:
        sandbox += f"<br>restored with {_e(row['restore_program'])}"
    steps = "<br>".join(f"{_e(name)}: {_e(_seconds(seconds))}" for name, seconds in row["steps"].items())
    rto, rto_over = _against(row["rto_s"], row["rto_target_s"])
    rpo, rpo_over = _against(row["rpo_s"], row["rpo_target_s"])
    verdict = str(row["verdict"] or "")
    problems = "<br>".join(_e(p) for p in row["problems"])
    return (
        f'<tr><td>{_e(row["time"])}</td><td>{_e(row["check"])}</td><td class="{_e(verdict)}">{_e(verdict)}</td>'
        f"<td>{backup}</td><td>{sandbox}</td><td>{steps}</td>"
        f'<td class="rto{" over" if rto_over else ""}">{_e(rto)}</td>'
        f'<td class="rpo{" over" if rpo_over else ""}">{_e(rpo)}</td>'
        f"<td>{_e(row['rows_checked'] if row['rows_checked'] is not None else '')}</td><td>{problems}</td></tr>"
    )
