"""The run-end plugin's state steps: the run's results and drill evidence kept in each target's state store,
RTO warnings from the store's history, and the store's earlier runs as Allure history points."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from opsverify.config.target import LoadedTarget
from opsverify.paths import state_dir
from opsverify.redaction import redact
from opsverify.report.store_history import STORE_HISTORY_RUNS, history_points, read_results, write_points
from opsverify.results import RunSummary
from opsverify.state.locate import prune_target_after_run
from opsverify.state.model import DrillRecord, StoredResult
from opsverify.state.store import StateError, StateStore, open_store, state_url
from opsverify.state.trends import rto_warnings

if TYPE_CHECKING:
    from opsverify.notify.gates import Gate

Stores = dict[str, tuple[StateStore | None, dict[str, "Gate"]]]
"""target name -> (its state store, None when it could not be opened; the failures its gates hold back)."""


def record_run(
    target: LoadedTarget,
    summary: RunSummary,
    drills: dict[str, dict[str, Any]],
    root: Path,
    problems: list[str],
) -> StateStore | None:
    """Open the target's state store and keep this run's results in it; None (said why) when it fails."""
    notify = target.model.notify
    configured = str(target.base_dir / notify.state) if notify is not None and notify.state else None
    directory = state_dir(root, configured)
    url = state_url(target.model.state.url if target.model.state is not None else None)
    try:
        store = open_store(url, directory)
        store.record_results(
            summary.run_id,
            target.name,
            [
                StoredResult(
                    summary.run_id,
                    target.name,
                    r.id,
                    r.status,
                    r.duration,
                    summary.finished,
                    r.reason,
                    r.figures,
                )
                for r in summary.of_target(target.name)
            ],
        )
        store.record_drills(
            summary.run_id,
            target.name,
            [
                DrillRecord(summary.run_id, target.name, r.id, _started(record, summary.started), record)
                for r in summary.of_target(target.name)
                if (record := drills.get(r.nodeid)) is not None
            ],
        )
    except StateError as exc:
        routes = notify is not None and bool(notify.routes)
        problems.append(
            f"state store for {target.name}: {redact(str(exc))}; the checks ran and their verdicts stand"
            + ("; notifications were sent without state (duplicates possible)" if routes else "")
        )
        return None
    problems += prune_target_after_run(store, target)
    return store


def _started(record: dict[str, Any], default: float) -> float:
    """When a drill started: its record's `started` (the run's start when it has none)."""
    started = record.get("started")
    if isinstance(started, int | float) and not isinstance(started, bool):
        return float(started)
    return default


def rto_warnings_of(
    target: LoadedTarget, summary: RunSummary, store: StateStore | None, problems: list[str]
) -> None:
    """Drills whose RTO nears its target or rose run after run (from the store's earlier runs)."""
    backups = target.section("backups") or {}
    for result in summary.of_target(target.name):
        entry = backups.get(result.name) if result.kind == "restore" else None
        spec = getattr(entry, "restore", None)
        if spec is None or "rto_s" not in result.figures:
            continue
        earlier: list[float] = []
        if store is not None and spec.rto_trend_runs > 0:
            try:
                rows = store.history(target.name, result.id, spec.rto_trend_runs + 1)
            except StateError as exc:
                problems.append(f"reading the history of {result.id}: {redact(str(exc))}")
                rows = []
            earlier = [
                r.figures["rto_s"] for r in rows if r.run_id != summary.run_id and "rto_s" in r.figures
            ]
        result.warnings = rto_warnings(
            result.figures["rto_s"], spec.rto, spec.rto_warn_pct, earlier, spec.rto_trend_runs
        )


def store_history(
    results_dir: Path,
    summary: RunSummary,
    stores: Stores,
    current: list[dict[str, Any]],
    written: set[str],
    since: float,
    problems: list[str],
) -> None:
    """The earlier runs in the store as Allure history points beside the results (for `opsverify report`).
    `current`: this process's results, kept by the writer (`written`: their file names); the folder is
    read only for the others (xdist workers')."""
    stored: list[StoredResult] = []
    for name, (store, _) in stores.items():
        if store is None:
            continue
        try:
            stored += store.recent_results(
                name,
                STORE_HISTORY_RUNS,
                exclude_run=summary.run_id,
                figures=False,
                checks=[r.id for r in summary.of_target(name)],
            )
        except StateError as exc:
            problems.append(f"reading the history of {name} for the report: {redact(str(exc))}")
    current = current + read_results(results_dir, since=since, skip=written)
    write_points(results_dir, history_points(current, stored, f"opsverify · {', '.join(summary.targets)}"))
