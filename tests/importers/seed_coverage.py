"""How much of each hand-written seed target (examples/seeds/*.yaml) `opsverify draft` finds in its guide.

An entry of the hand-written target is covered when the draft has an entry of the same kind with the same
identity: http and metrics the same URL path (the base is a variable in both), backups the same file
pattern, prometheus a rule with the same expression, host the same resource (disk, memory, cpu, load).
postgres, redis, tls and logs entries name their server or file through a variable in the hand-written
targets, so there the kind is the identity. Each draft entry covers at most one hand-written entry.

    .venv/bin/python -m tests.importers.seed_coverage     # the table in docs/import.md
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from opsverify.importers.guide import draft_guide

ROOT = Path(__file__).resolve().parents[2]
GUIDES = Path(__file__).parent / "guides"
SEEDS = ("bimcalc", "cleanwithsnapshot", "codebook", "driedfruits", "emailops")


def _path(url: str) -> str:
    url = re.sub(r"^\$\{[^}]+\}", "", str(url))
    url = re.sub(r"^https?://[^/]+", "", url)
    return url or "/"


def _expr(text: str) -> str:
    text = re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(text))
    return re.sub(r"\s+", "", text)


def identities(target: dict[str, Any]) -> list[tuple[str, str]]:
    """(kind, identity) of every entry (prometheus: one per entry, identity = its rules' expressions)."""
    found: list[tuple[str, str]] = []
    for section, entries in target.items():
        if not isinstance(entries, dict) or section in ("notify", "schedule"):
            continue
        if section == "host":
            found += [("host", key) for key in entries]
            continue
        for entry in entries.values():
            if not isinstance(entry, dict):
                continue
            if section in ("http", "metrics"):
                found.append((section, _path(entry.get("url", ""))))
            elif section == "backups":
                found.append((section, str(entry.get("pattern", "*"))))
            elif section == "prometheus":
                exprs = sorted(_expr(rule.get("expr", "")) for rule in (entry.get("rules") or {}).values())
                found.append((section, "|".join(exprs)))
            else:
                found.append((section, ""))
    return found


def _covers(kind: str, wanted: str, have: str) -> bool:
    if kind == "prometheus":
        return bool(set(wanted.split("|")) & set(have.split("|")))
    return kind in ("postgres", "redis", "tls", "logs") or wanted == have


def coverage(seed: str, out_dir: Path) -> tuple[int, int, list[str]]:
    """(covered, total, the hand-written entries not covered) for one seed."""
    wanted = identities(yaml.safe_load((ROOT / "examples" / "seeds" / f"{seed}.yaml").read_text()))
    draft = draft_guide(GUIDES / f"{seed}.md", seed)
    have = identities(yaml.safe_load(draft.render()))
    covered, missing = 0, []
    for kind, identity in wanted:
        match = next((h for h in have if h[0] == kind and _covers(kind, identity, h[1])), None)
        if match is None:
            missing.append(f"{kind}:{identity}")
            continue
        have.remove(match)
        covered += 1
    return covered, len(wanted), missing


def table() -> str:
    rows = ["| guide | hand-written entries | found by the draft | coverage |", "|---|---|---|---|"]
    for seed in SEEDS:
        covered, total, _ = coverage(seed, Path("."))
        rows.append(f"| {seed} | {total} | {covered} | {round(100 * covered / total)} % |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(table())
    for seed in SEEDS:
        print(seed, coverage(seed, Path("."))[2])
