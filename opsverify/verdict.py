"""Failure messages for checks: what was checked, what was wrong, and the evidence — redacted."""

from __future__ import annotations

from collections.abc import Iterable

from opsverify.config.secrets import redact
from opsverify.config.target import CheckItem


def explain(check: CheckItem, problems: Iterable[str], evidence: str | None = None) -> str:
    """The message a failed check shows: `http:api-health failed (target prod)`, problems, evidence."""
    lines = [f"{check.id} failed on target {check.target.name}:"]
    lines += [f"  - {problem}" for problem in problems]
    if evidence:
        lines.append("  evidence:")
        lines += [f"    {line}" for line in evidence.splitlines()[:40]]
    return redact("\n".join(lines))
