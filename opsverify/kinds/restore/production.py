"""The target's production databases: refused as drill sandboxes, counted for `expect.compare_to`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from opsverify.drills.verify import count_production
from opsverify.kinds.base import ProbeContext
from opsverify.kinds.restore.facts import Verification

if TYPE_CHECKING:
    from opsverify.kinds.backups.model import BackupCheck


def production_entries(ctx: ProbeContext, section_name: str = "postgres") -> dict[str, str]:
    """name -> URL of the target's postgres (or mysql) entries (empty when the probe runs without the target)."""
    target = ctx.target
    section = target.section(section_name) if target is not None else None
    if not section:
        return {}
    return {
        name: str(getattr(item, "url", ""))
        for name, item in dict(section).items()
        if getattr(item, "url", None)
    }


def compare_production(name: str, found: Verification, entry: BackupCheck, ctx: ProbeContext) -> None:
    assert entry.restore is not None
    target = ctx.target
    section = dict(target.section("postgres") or {}) if target is not None else {}
    item = section.get(name)
    if item is None:
        known = ", ".join(section) or "none"
        found.compare_error = f"the target has no postgres entry {name!r} (postgres entries: {known})"
        return
    timeout = float(getattr(item, "statement_timeout", 30.0))
    count_production(str(item.url), entry.restore.expect.counted_tables(), timeout, found)
