"""The drills of a target as rows: one per drill, the fields an auditor asks for (CSV and JSON)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from opsverify.redaction import redact, redact_data
from opsverify.state.model import DrillRecord

COLUMNS = (
    "time",
    "check",
    "verdict",
    "backup_file",
    "backup_size",
    "backup_sha256",
    "backup_time",
    "backup_age_s",
    "sandbox",
    "sandbox_detail",
    "restore_program",
    "steps",
    "rto_s",
    "rto_target_s",
    "rpo_s",
    "rpo_target_s",
    "tables_checked",
    "rows_checked",
    "host",
    "run_id",
    "problems",
)


def number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def row_of(drill: DrillRecord) -> dict[str, Any]:
    """One drill's fields, named for people (the record keeps the names drills.jsonl has)."""
    r = drill.record
    steps = r.get("steps") if isinstance(r.get("steps"), dict) else {}
    return {
        "time": r.get("time"),
        "check": drill.check_id,
        "verdict": r.get("verdict"),
        "backup_file": r.get("file"),
        "backup_size": r.get("size"),
        "backup_sha256": r.get("sha256"),
        "backup_time": r.get("backup_time"),
        "backup_age_s": r.get("backup_age_s"),
        "sandbox": r.get("sandbox"),
        "sandbox_detail": r.get("sandbox_detail"),
        "restore_program": r.get("restore_program"),
        "steps": steps,
        "rto_s": r.get("rto_s"),
        "rto_target_s": r.get("rto_target_s"),
        "rpo_s": r.get("data_lag_s"),
        "rpo_target_s": r.get("rpo_target_s"),
        "tables_checked": r.get("tables_checked"),
        "rows_checked": r.get("rows_checked"),
        "host": r.get("host"),
        "run_id": drill.run_id,
        "problems": [str(p) for p in r.get("problems") or []],
    }


def as_json(target: str, drills: list[DrillRecord]) -> str:
    data = {"target": target, "drills": [row_of(d) for d in drills]}
    return json.dumps(redact_data(data), indent=2, default=str) + "\n"


def as_csv(drills: list[DrillRecord]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for drill in drills:
        row = row_of(drill)
        row["steps"] = ";".join(f"{k}={v}" for k, v in row["steps"].items())
        row["problems"] = " | ".join(row["problems"])
        writer.writerow([redact("" if row[c] is None else str(row[c])) for c in COLUMNS])
    return out.getvalue()
