"""The Allure report's history fed from the state store, so its trends survive CI runners that lose reports/.

Allure 3 keeps its history in a JSON-lines file of "history data points", one per report, keyed by each
test's history id. At the end of a run opsverify writes, beside the results, one such point per earlier run
the store holds (`opsverify-store-history.jsonl`); `opsverify report` adds those the report history file
lacks before Allure reads it. The history id is computed as Allure 3.18 does (`md5(testCaseId)` + "." +
`md5` of the sorted parameters), from this run's results: checks that did not run this time are left out.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Collection
from pathlib import Path
from typing import Any

from opsverify.redaction import redact
from opsverify.state.model import StoredResult

STORE_HISTORY_FILE = "opsverify-store-history.jsonl"
HISTORY_RUN_FIELD = "opsverifyRunId"  # as the report builder tags the entries Allure writes
STORE_HISTORY_RUNS = 20  # earlier runs written per target
_STATUSES = {"passed": "passed", "failed": "failed", "skipped": "skipped"}


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()  # noqa: S324 - Allure's id, not a secret


def check_key(result: dict[str, Any]) -> str | None:
    """The `check` parameter of an Allure result ("target/check id"; allure-pytest writes a repr)."""
    for parameter in result.get("parameters") or []:
        if isinstance(parameter, dict) and parameter.get("name") == "check":
            value = str(parameter.get("value") or "")
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            return value
    return None


def history_id(result: dict[str, Any]) -> tuple[str, str] | None:
    """(test case id, history id) as Allure 3 computes them from an allure-results result."""
    test_id = result.get("testCaseId") or result.get("fullName")
    if not test_id:
        return None
    case = _md5(str(test_id))
    parameters = sorted(
        (
            (str(p.get("name") or ""), str(p.get("value") or ""))
            for p in result.get("parameters") or []
            if isinstance(p, dict) and not p.get("excluded")
        ),
    )
    return case, f"{case}.{_md5(','.join(f'{name}:{value}' for name, value in parameters))}"


def read_results(results_dir: Path, since: float = 0.0, skip: Collection[str] = ()) -> list[dict[str, Any]]:
    """The Allure results written in `results_dir` since `since` (unreadable ones, and the file names in
    `skip`, left out)."""
    found = []
    for path in results_dir.glob("*-result.json"):
        if path.name in skip:
            continue
        try:
            if path.stat().st_mtime < since:
                continue
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict):
            found.append(data)
    return found


def history_points(
    current: list[dict[str, Any]], stored: list[StoredResult], name: str
) -> list[dict[str, Any]]:
    """One Allure history data point per earlier run in `stored`, for the checks of this run's results."""
    known: dict[str, tuple[str, str, dict[str, Any]]] = {}
    for result in current:
        key, ids = check_key(result), history_id(result)
        if key is not None and ids is not None:
            known[key] = (*ids, result)
    runs: dict[str, list[StoredResult]] = defaultdict(list)
    for row in stored:
        if f"{row.target}/{row.check_id}" in known:
            runs[row.run_id].append(row)
    points = []
    for run_id, rows in runs.items():
        finished = max(r.finished for r in rows)
        results: dict[str, Any] = {}
        for row in rows:
            _, hid, result = known[f"{row.target}/{row.check_id}"]
            results[hid] = {
                "id": _md5(f"{run_id}/{row.target}/{row.check_id}"),
                "name": result.get("name") or row.check_id,
                "fullName": result.get("fullName"),
                "environment": "default",
                "status": _STATUSES.get(row.status, "unknown"),
                **({"message": redact(row.reason)} if row.reason and row.status == "failed" else {}),
                "start": round((row.finished - row.duration) * 1000),
                "stop": round(row.finished * 1000),
                "duration": round(row.duration * 1000),
                "labels": result.get("labels") or [],
                "url": "",
                "historyId": hid,
                "reportLinks": [],
            }
        points.append(
            {
                "uuid": _md5(f"opsverify-run/{run_id}"),
                "name": name,
                "timestamp": round(finished * 1000),
                "knownTestCaseIds": sorted({known[f"{r.target}/{r.check_id}"][0] for r in rows}),
                "testResults": results,
                "metrics": {},
                "url": "",
                HISTORY_RUN_FIELD: run_id,
            }
        )
    return sorted(points, key=lambda p: p["timestamp"])


def write_points(results_dir: Path, points: list[dict[str, Any]]) -> Path | None:
    """Write the points beside the results (replacing an earlier file); None when there are none."""
    path = results_dir / STORE_HISTORY_FILE
    if not points:
        path.unlink(missing_ok=True)
        return None
    path.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in points), encoding="utf-8")
    return path


def read_points(results_dir: Path) -> list[str]:
    """The points a run wrote beside its results, as JSON lines ([] when there are none)."""
    try:
        text = (results_dir / STORE_HISTORY_FILE).read_text(encoding="utf-8")
    except OSError:
        return []
    return [line for line in text.splitlines() if line.strip()]
