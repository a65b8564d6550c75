"""Warnings from history: a drill's RTO near its target or rising run after run (never a failure)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from opsverify.state.model import StoredResult
from opsverify.state.store import open_store
from opsverify.state.trends import rto_warnings
from tests.conftest import RunResult
from tests.drills.test_file_drills import emailops_backup


def test_rto_past_its_share_of_the_target_warns() -> None:
    (warning,) = rto_warnings(3.4 * 3600, 4 * 3600, 80, [], 4)
    assert warning == (
        "RTO 3.4h is 85% of its 4h target (rto_warn_pct: 80): the restore is getting close to the limit"
    )
    assert rto_warnings(3.0 * 3600, 4 * 3600, 80, [], 4) == []
    assert rto_warnings(5.0 * 3600, 4 * 3600, 80, [], 4) == []  # over the target: the drill fails instead
    assert rto_warnings(3.9 * 3600, 4 * 3600, None, [], 4) == []  # off
    assert rto_warnings(3.9 * 3600, None, 80, [], 4) == []  # no target
    assert rto_warnings(None, 4 * 3600, 80, [], 4) == []  # not measured (the drill failed before)


def test_rto_rising_on_each_of_the_last_runs_warns() -> None:
    earlier = [40.0, 35.0, 30.0, 25.0, 90.0]  # newest first
    (warning,) = rto_warnings(45.0, 4 * 3600, 80, earlier, 4)
    assert warning == (
        "RTO rose on each of the last 4 runs (25s -> 30s -> 35s -> 40s -> 45s, +80%; rto_trend_runs: 4): "
        "find what grows before it passes its target"
    )
    assert rto_warnings(39.0, 4 * 3600, 80, earlier, 4) == []  # fell this time
    assert rto_warnings(45.0, 4 * 3600, 80, earlier[:3], 4) == []  # too few runs yet
    assert rto_warnings(45.0, 4 * 3600, 80, earlier, 0) == []  # off
    assert rto_warnings(25.3, 4 * 3600, 80, [25.2, 25.1, 25.05, 25.0], 4) == []  # rising by less than 20%
    assert len(rto_warnings(45.0, 4 * 3600, 80, earlier, 2)) == 1  # 35 -> 40 -> 45 is enough for 2


TARGET = """target: prod
backups:
  index:
    path: {folder}
    pattern: "*.db"
    settle: 0s
    restore:
      rto: 1h
      rto_warn_pct: {pct}
      expect: {{tables: [messages], min_rows: {{messages: 1000}}}}
"""


def allure_result(reports: Path, check: str) -> dict:
    for path in (reports / "allure-results").glob("*-result.json"):
        data = json.loads(path.read_text())
        if any(p.get("value") == f"'prod/{check}'" for p in data.get("parameters", [])):
            return data
    raise AssertionError(f"no Allure result for {check}")


def test_a_drill_near_its_rto_warns_in_terminal_summary_and_allure(run_checks, tmp_path: Path) -> None:
    emailops_backup(tmp_path / "b")
    result: RunResult = run_checks(TARGET.format(folder=tmp_path / "b", pct=0.00001), "-m", "dr")
    assert result.returncode == 0, result.output  # a warning never fails the run
    assert "1 passed" in result.output
    assert "  WARNING restore:index: RTO " in result.output
    assert "of its 60m target (rto_warn_pct: 1e-05)" in result.output
    summary = json.loads((result.reports / "summary.json").read_text())
    assert summary["status"] == "passed"
    (warning,) = summary["warnings"]
    assert warning["id"] == "restore:index"
    assert "rto_warn_pct" in warning["text"]
    (check,) = [c for c in summary["checks"] if c["id"] == "restore:index"]
    assert check["warnings"] == [warning["text"]]
    allure = allure_result(result.reports, "restore:index")
    assert allure["status"] == "passed"
    assert {"name": "tag", "value": "warning"} in allure["labels"]
    assert allure["statusDetails"]["message"].startswith("warning: RTO ")


def test_a_rising_rto_warns_from_the_stored_history(run_checks, tmp_path: Path) -> None:
    """Earlier runs in the store (RTOs of a few microseconds, rising), then a real drill: a rising trend."""
    emailops_backup(tmp_path / "b")
    store = open_store(None, tmp_path / "reports" / "state")
    now = time.time()
    for i, rto in enumerate([0.00001, 0.00002, 0.00003, 0.00004]):
        store.record_results(
            f"earlier-{i}",
            "prod",
            [
                StoredResult(
                    f"earlier-{i}", "prod", "restore:index", "passed", rto, now - 100 + i, "", {"rto_s": rto}
                )
            ],
        )
    result = run_checks(TARGET.format(folder=tmp_path / "b", pct=100), "-m", "dr")
    assert result.returncode == 0, result.output
    assert "  WARNING restore:index: RTO rose on each of the last 4 runs (" in result.output
    summary = json.loads((result.reports / "summary.json").read_text())
    assert [w["id"] for w in summary["warnings"]] == ["restore:index"]
