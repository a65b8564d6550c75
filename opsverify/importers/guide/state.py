"""What the draft of one guide has gathered so far, and how an entry quoting its line is added."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from opsverify.importers.draft import Draft, quote
from opsverify.importers.guide.lines import Line

TIER_WORDS = {"daily": "daily", "weekly": "weekly", "monthly": "monthly", "quarterly": "quarterly"}
DURATION_WORDS = {"minute": "m", "minutes": "m", "hour": "h", "hours": "h", "day": "d", "days": "d"}


@dataclass
class State:
    draft: Draft
    file: str
    urls: dict[str, str] = field(default_factory=dict)  # url (or path) -> entry name
    backups: list[str] = field(default_factory=list)  # names of the backups entries, in order
    restores: list[tuple[str, Line]] = field(default_factory=list)  # (backups entry, its restore line)
    rto: str | None = None
    rpo: str | None = None
    restore_line: Line | None = None
    cron_daily: bool = False
    metrics_url: str | None = None
    metrics_line: Line | None = None
    metrics_auth: dict[str, Any] = field(default_factory=dict)
    metrics_groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    metric_names: list[tuple[str, bool, Line]] = field(default_factory=list)
    label: str | None = None
    tool_env: dict[str, str] = field(
        default_factory=dict
    )  # RESTIC_REPOSITORY, BORG_REPO, ... as the guide sets them
    tool_backups: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (tool, repo, path) -> entry


def tier(line: Line) -> list[str] | None:
    """The tier its headings name ("Daily checks" -> daily), if any."""
    for heading in reversed(line.headings):
        for word, name in TIER_WORDS.items():
            if re.search(rf"\b{word}\b", heading, re.IGNORECASE):
                return [name]
    return None


def described(state: State, line: Line, text: str | None = None) -> str:
    return quote(
        state.file, line.number, (text if text is not None else line.text).strip().lstrip("-*> ").strip()
    )


def add(
    state: State, section: str, name: str, entry: dict[str, Any], line: Line, text: str | None = None
) -> str:
    """Add an entry whose description quotes its source line (and the tier its headings name)."""
    entry = {"description": described(state, line, text), **entry}
    tiers = tier(line)
    if tiers and "tiers" not in entry:
        entry["tiers"] = tiers
    return state.draft.add(section, name, entry)


def short(text: str, limit: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) < limit else text[: limit - 3] + "..."


def host_kinds(draft: Draft) -> set[str]:
    return set(draft.sections.get("host", {}))


def host(state: State, kind: str, entry: dict[str, Any], line: Line) -> None:
    entry = {"description": described(state, line), **entry}
    if tiers := tier(line):
        entry["tiers"] = tiers
    entries = state.draft.sections.setdefault("host", {})
    entries[kind] = [entry] if kind == "disk" else entry


def var_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", text).strip("_").upper() or "APP"
