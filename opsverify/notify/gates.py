"""What keeps a failure from alerting although it fails: its dependency failed, a silence, a maintenance window.

The failure still fails the run; the gate only decides that nothing is sent for it, and says why
("blocked by postgres:main", "silenced until ... (deploy)", "in maintenance window ...").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from opsverify.notify.maintenance import MaintenanceWindow, open_window
from opsverify.results import CheckResult

GateDecision = Literal["blocked", "silenced", "maintenance"]


@dataclass(frozen=True)
class Gate:
    decision: GateDecision
    note: str


def _covers(dependency: str, check_id: str) -> bool:
    """`postgres:main` covers its rules too (`postgres:main/pending-jobs`)."""
    return check_id == dependency or check_id.startswith(dependency + "/")


def gates(
    results: list[CheckResult],
    silenced: Callable[[str], str | None],
    windows: list[MaintenanceWindow],
    now: float,
) -> dict[str, Gate]:
    """Per failing check id, the gate that holds its alert back (none: it alerts as the policy says)."""
    failing = [r.id for r in results if r.failed]
    window = open_window(windows, datetime.fromtimestamp(now, UTC)) if windows else None
    found: dict[str, Gate] = {}
    for result in results:
        if not result.failed:
            continue
        blockers = [d for d in result.depends_on if any(_covers(d, f) and f != result.id for f in failing)]
        silence = silenced(result.id)
        if blockers:
            found[result.id] = Gate("blocked", f"blocked by {', '.join(blockers)}")
        elif silence is not None:
            found[result.id] = Gate("silenced", silence)
        elif window is not None:
            found[result.id] = Gate("maintenance", f"in {window.label()}")
    return found
