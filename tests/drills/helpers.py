"""Running drills from a target file written for the test (real loading, real sandbox on the local server)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from opsverify.config.target import load_target
from opsverify.kinds.backups.model import BackupCheck
from opsverify.kinds.base import ProbeContext
from opsverify.kinds.restore.facts import DrillFacts
from opsverify.kinds.restore.probe import DrillHooks, probe
from opsverify.kinds.restore.verdict import judge
from tests.backups.pgdumps import admin_url

GOOD_EXPECT: dict[str, Any] = {
    "tables": ["clients", "bookings", "public.invoices"],
    "min_rows": {"bookings": 3000, "clients": 400},
    "queries": {
        "revision": {"sql": "select version_num from alembic_version", "equals": "0086"},
        "pending": {"sql": "select count(*) from bookings where status = 'pending'", "min": 1, "max": 1000},
    },
    "freshness": {"sql": "select max(created_at) from bookings", "max_lag": "26h"},
}


def load_entry(
    tmp_path: Path, folder: Path, restore: dict[str, Any], postgres: dict[str, Any] | None = None, **keys: Any
) -> tuple[BackupCheck, ProbeContext]:
    """Write a target with one backups entry `db` (and optional postgres entries), load it for real."""
    document: dict[str, Any] = {
        "target": "prod",
        "backups": {
            "db": {
                "path": str(folder),
                "settle": 0,
                **keys,
                "restore": {"sandbox": "url", "sandbox_url": admin_url(), **restore},
            }
        },
    }
    if postgres:
        document["postgres"] = postgres
    path = tmp_path / "target.yaml"
    path.write_text(yaml.safe_dump(document))
    target = load_target(str(path))
    entry = target.model.backups["db"]  # type: ignore[attr-defined]
    return entry, ProbeContext(target.name, target.base_dir, target=target, entry_name="db")


def run_drill(
    tmp_path: Path,
    folder: Path,
    restore: dict[str, Any] | None = None,
    postgres: dict[str, Any] | None = None,
    hooks: DrillHooks | None = None,
    **keys: Any,
) -> tuple[DrillFacts, list[str]]:
    entry, context = load_entry(
        tmp_path, folder, {"expect": GOOD_EXPECT, **(restore or {})}, postgres, **keys
    )
    facts = probe(entry, context, hooks)
    return facts, [problem.text for problem in judge(entry, facts).problems]


def evidence_lines(reports: Path) -> list[dict[str, Any]]:
    path = reports / "drills.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
