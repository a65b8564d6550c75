"""The Allure report's history from the state store: two CI runners (two folders) sharing one PostgreSQL
store; the second builds its report with no history file, and the report still shows the first run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from opsverify.report.allure_files import annotate_results
from opsverify.report.builder import build_report, history_runs
from opsverify.report.store_history import STORE_HISTORY_FILE
from tests.conftest import LocalHTTPServer, json_response
from tests.report.conftest import run_smoke
from tests.state.conftest import state_pg_url  # noqa: F401 - the fixture


def run_runner(folder: Path, url: str, state_url: str) -> tuple[int, str]:
    folder.mkdir()
    done = run_smoke(
        folder,
        f"target: shop-prod\nhttp:\n  checkout: {{url: '{url}/checkout', tiers: [smoke]}}\n"
        f"  home: {{url: '{url}/up', tiers: [smoke]}}\n",
        {"OPSVERIFY_STATE_URL": state_url},
    )
    return done.returncode, done.stdout + done.stderr


def test_report_history_comes_from_the_shared_store(tmp_path: Path, state_pg_url: str) -> None:  # noqa: F811
    server = LocalHTTPServer().start()
    server.routes["/up"] = json_response({"status": "ok"})
    try:
        server.routes["/checkout"] = json_response({"status": "down"}, 503)
        code, output = run_runner(tmp_path / "runner-1", server.url, state_pg_url)
        assert code == 1, output
        server.routes["/checkout"] = json_response({"status": "ok"})
        code, output = run_runner(tmp_path / "runner-2", server.url, state_pg_url)
        assert code == 0, output
    finally:
        server.stop()
    first = json.loads((tmp_path / "runner-1" / "reports" / "summary.json").read_text())["run_id"]
    second = json.loads((tmp_path / "runner-2" / "reports" / "summary.json").read_text())["run_id"]
    results = tmp_path / "runner-2" / "reports" / "allure-results"
    (point,) = [json.loads(line) for line in (results / STORE_HISTORY_FILE).read_text().splitlines()]
    assert point["opsverifyRunId"] == first
    statuses = {r["name"]: r["status"] for r in point["testResults"].values()}
    assert statuses == {"http:checkout": "failed", "http:home": "passed"}
    assert "status: expected 200, got 503" in json.dumps(point)
    # runner 2 has no report history of its own: the report's history comes from the store
    history = tmp_path / "runner-2" / "reports" / "allure-history.jsonl"
    assert not history.exists()
    output = tmp_path / "report"
    build_report(results, output, history, log=lambda _: None)
    assert history_runs(history) == [second]  # the store's runs are not copied into the file, only read
    entries = [json.loads(line) for line in history.read_text().splitlines()]
    (added,) = entries
    # Allure matched the store's run to this run's checks: the same history ids
    assert set(added["testResults"]) == set(point["testResults"])
    summary = json.loads((output / "summary.json").read_text())
    assert summary["newTests"] == []  # the checks are known from the earlier run
    shown = {}
    for path in (output / "data" / "test-results").glob("*.json"):
        data = json.loads(path.read_text())
        shown[data["name"]] = (data.get("transition"), [h["status"] for h in data.get("history", [])])
    assert shown == {"http:checkout": ("fixed", ["failed"]), "http:home": (None, ["passed"])}


def test_a_silenced_failure_is_muted_in_the_built_report(finished_run: Path, tmp_path: Path) -> None:
    results = tmp_path / "results"
    shutil.copytree(finished_run / "allure-results", results)
    changed = annotate_results(
        results, {}, {"shop-prod/http:checkout": ("silenced", "silenced until 2026-12-01 06:00 UTC (deploy)")}
    )
    assert changed == 1
    output = tmp_path / "report"
    build_report(results, output, tmp_path / "h.jsonl", log=lambda _: None)
    shown = {}
    for path in (output / "data" / "test-results").glob("*.json"):
        data = json.loads(path.read_text())
        shown[data["name"]] = data
    checkout = shown["http:checkout"]
    assert checkout["status"] == "failed"
    assert checkout["muted"] is True
    assert checkout["error"]["message"].startswith(
        "[silenced until 2026-12-01 06:00 UTC (deploy); nothing was sent]"
    )
    assert {"name": "tag", "value": "silenced"} in checkout["labels"]
    assert shown["http:home"].get("muted") is not True
