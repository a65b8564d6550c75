"""The figures of a check worth keeping across runs, read from its facts by their shape (any kind).

latency_ms (p95 of the samples), backup_bytes and backup_age_s (the newest backup), rto_s, rpo_s (the
restored data's lag) and rows (rows checked in a drill). Nothing else of the facts is kept.
"""

from __future__ import annotations

import json
import math
from typing import Any


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _p95(values: list[Any]) -> float | None:
    numbers = sorted(v for v in (_number(x) for x in values) if v is not None)
    if not numbers:
        return None
    return numbers[min(len(numbers) - 1, max(0, math.ceil(0.95 * len(numbers)) - 1))]


def _backup(facts: Any, into: dict[str, float]) -> None:
    newest = getattr(facts, "newest", None)
    size, mtime = _number(getattr(newest, "size", None)), _number(getattr(newest, "mtime", None))
    if size is not None:
        into["backup_bytes"] = size
    checked = _number(getattr(facts, "checked_at", None))
    if mtime is not None and checked is not None:
        into["backup_age_s"] = round(max(0.0, checked - mtime), 3)


def figures_of(facts: Any) -> dict[str, float]:
    """The figures found in `facts` (a probe's dataclass); {} when it has none. Never raises."""
    figures: dict[str, float] = {}
    try:
        latency = _p95(list(getattr(facts, "latencies_ms", None) or []))
        if latency is not None:
            figures["latency_ms"] = round(latency, 3)
        _backup(facts, figures)
        backup = getattr(facts, "backup", None)
        if backup is not None:
            _backup(backup, figures)
        if hasattr(facts, "rto_seconds") and getattr(facts, "steps", None):
            rto = _number(facts.rto_seconds)
            if rto is not None:
                figures["rto_s"] = round(rto, 3)
        verification = getattr(facts, "verification", None)
        if verification is not None:
            lag = _number(getattr(verification, "data_lag_s", None))
            if lag is not None:
                figures["rpo_s"] = round(lag, 3)
            rows = _number(getattr(verification, "rows_checked", None))
            if rows is not None and getattr(verification, "row_counts", None):
                figures["rows"] = rows
    except Exception:  # noqa: BLE001 (a figure is a report detail: it never changes the check)
        return figures
    return figures


def clean_figures(figures: dict[str, Any]) -> dict[str, float]:
    """Only finite numbers are figures."""
    clean: dict[str, float] = {}
    for key, value in figures.items():
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            clean[str(key)] = float(value)
    return clean


def decode_figures(text: str) -> dict[str, float]:
    """The figures kept as JSON text ({} when it is not that)."""
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return clean_figures(data) if isinstance(data, dict) else {}
