"""Drill evidence: one JSON line per drill appended to reports/drills.jsonl (redacted, safe across processes)."""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any

from opsverify.paths import reports_dir
from opsverify.redaction import redact_data

DRILLS_FILE = "drills.jsonl"


def drills_path(root: Path | None = None) -> Path:
    return reports_dir(root) / DRILLS_FILE


def append_record(record: dict[str, Any], path: Path | None = None) -> Path:
    """Append `record` as one line; an exclusive lock keeps lines whole when xdist workers drill at once."""
    target = path or drills_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(redact_data(record), sort_keys=True, default=str) + "\n"
    with target.open("a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    return target


def read_records(path: Path | None = None) -> list[dict[str, Any]]:
    """Every drill recorded so far, oldest first (lines that do not parse are skipped)."""
    target = path or drills_path()
    if not target.is_file():
        return []
    records = []
    for line in target.read_text(encoding="utf-8").splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            records.append(value)
    return records
