"""Recall of `opsverify draft` on the corpus of operations guides in tests/importers/corpus/.

Each guide `NAME.md` has `NAME.expected.yaml`, written by hand before the draft first ran on it: the entries a
careful person writes from that page, each as its kind and the one fact that identifies it:

| kind | id | matched by a draft entry that has |
|---|---|---|
| http, metrics | URL path (with its query) | that path after the `${..._URL}` base |
| backups | file pattern (`format:` too when given) | that `pattern` (and `format`) |
| drill | the pattern of the restored backup (`tables:` too when given) | a backups entry with that pattern and a `restore:` block (expecting those tables) |
| command | words of the command | a `command` entry whose `run` contains them |
| postgres, mysql | `version` or "" | an entry with a version query, or any entry |
| other kinds | "" | any entry of the kind |

Each draft entry matches at most one expected entry of its kind.

    .venv/bin/python -m tests.importers.corpus_score        # the table in docs/import.md
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import yaml

from opsverify.importers.draft import ImportProblem
from opsverify.importers.guide import draft_guide

CORPUS = Path(__file__).parent / "corpus"


def guides() -> list[str]:
    return sorted(path.name.removesuffix(".expected.yaml") for path in CORPUS.glob("*.expected.yaml"))


def _path(url: str) -> str:
    url = re.sub(r"^\$\{[^}]+\}", "", str(url))
    url = re.sub(r"^https?://[^/]+", "", url)
    return url or "/"


def drafted_entries(target: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(kind, entry) of every entry of a drafted target; a backups entry with `restore:` is also a drill."""
    found: list[tuple[str, dict[str, Any]]] = []
    for section, entries in target.items():
        if not isinstance(entries, dict):
            continue
        for name, entry in entries.items():
            entry = entry[0] if isinstance(entry, list) and entry else entry
            if not isinstance(entry, dict):
                continue
            found.append((section, {"name": name, **entry}))
            if section == "backups" and entry.get("restore") is not None:
                found.append(("drill", entry))
    return found


def matches(expected: dict[str, Any], kind: str, entry: dict[str, Any]) -> bool:
    wanted = str(expected.get("id") or "")
    if kind != expected["kind"]:
        return False
    if kind in ("http", "metrics"):
        return _path(entry.get("url", "")) == wanted
    if kind == "backups":
        return entry.get("pattern") == wanted and expected.get("format", entry.get("format")) == entry.get(
            "format"
        )
    if kind == "drill":
        tables = ((entry.get("restore") or {}).get("expect") or {}).get("tables") or []
        return entry.get("pattern") == wanted and set(expected.get("tables", [])) <= set(tables)
    if kind == "command":
        run = entry.get("run", "")
        text = run if isinstance(run, str) else shlex.join(run)
        return all(word in text for word in wanted.split())
    if kind in ("postgres", "mysql") and wanted == "version":
        return any("version" in name for name in entry.get("queries") or {})
    if kind == "host":
        return entry.get("name") == wanted or not wanted
    return True


def score(guide: str) -> tuple[int, int, list[str], list[tuple[str, dict[str, Any]]]]:
    """(found, expected, the expected entries not found, the drafted entries) of one guide."""
    expected = yaml.safe_load((CORPUS / f"{guide}.expected.yaml").read_text(encoding="utf-8"))
    try:
        have = drafted_entries(yaml.safe_load(draft_guide(CORPUS / f"{guide}.md", guide).render()))
    except ImportProblem:  # "nothing to convert": none found
        have = []
    remaining = list(have)
    found, missing = 0, []
    for item in expected:
        hit = next((pair for pair in remaining if matches(item, *pair)), None)
        if hit is None:
            missing.append(f"{item['kind']}:{item.get('id', '')}")
            continue
        remaining.remove(hit)
        found += 1
    return found, len(expected), missing, have


def table() -> str:
    rows = ["| guide | expected entries | found by the draft | recall |", "|---|---|---|---|"]
    total_found = total = 0
    for guide in guides():
        found, expected, _, _ = score(guide)
        total_found, total = total_found + found, total + expected
        rows.append(f"| {guide} | {expected} | {found} | {round(100 * found / expected)} % |")
    rows.append(
        f"| **all {len(guides())} guides** | {total} | {total_found} | {round(100 * total_found / total)} % |"
    )
    return "\n".join(rows)


if __name__ == "__main__":
    print(table())
    for name in guides():
        print(name, score(name)[2])
