"""The outcome of a run, check by check: built on the controller from test reports, written to summary.json.

Notifications, the terminal summary and summary.json all read this one model, so they always agree.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from opsverify.redaction import redact, redact_data
from opsverify.results import CheckResult, Outcome, RunSummary

__all__ = ["CheckResult", "Outcome", "RunSummary", "split_failure_text", "write_json"]

REASON_LIMIT = 2000
DETAILS_LIMIT = 8000
_XDIST_HEADER = re.compile(r"^\[gw\d+\] .*\n")  # "[gw1] linux -- Python 3.11 ..." before a worker's failure


def split_failure_text(text: str) -> tuple[str, str]:
    """(reason, details) of a failure without structured problems (a hand-written check): its error line."""
    text = redact(_XDIST_HEADER.sub("", text.strip(), count=1))
    lines = text.splitlines()
    error_lines = [line[1:].strip() for line in lines if line.startswith("E ")]
    reason = error_lines[0] if error_lines else (lines[0].strip() if lines else "")
    if error_lines and len(error_lines) > 1 and len(reason) < 60:
        reason = " ".join(error_lines[:3])
    return _cap(reason, REASON_LIMIT), _cap(text, DETAILS_LIMIT)


def _cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (readers never see half a file); the content is redacted once more."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(redact_data(data), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(temporary, path)
