"""`opsverify report` with the real Allure CLI: one history entry per run, however often its report is
built, and the single-file report beside the multi-file one, not over it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from opsverify.cli import main
from opsverify.report.builder import HISTORY_RUN_FIELD, build_report, history_runs, run_key
from tests.conftest import LocalHTTPServer, json_response
from tests.report.conftest import run_suite


def run_id(reports: Path) -> str:
    return str(json.loads((reports / "summary.json").read_text())["run_id"])


def another_run(folder: Path) -> Path:
    """A second smoke run of the same target (everything passes this time): its reports folder."""
    server = LocalHTTPServer().start()
    server.routes["*"] = json_response({"status": "ok"})
    folder.mkdir()
    try:
        completed = run_suite(folder, server.url)
    finally:
        server.stop()
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return folder / "reports"


def test_one_history_entry_per_run(finished_run: Path, tmp_path: Path) -> None:
    history = tmp_path / "allure-history.jsonl"
    first = run_id(finished_run)
    for single_file in (False, False, True):
        output = tmp_path / ("single" if single_file else "report")
        build_report(finished_run / "allure-results", output, history, single_file, log=lambda _: None)
        assert history_runs(history) == [first]
        if not single_file:  # a rebuilt report does not compare the run with itself: its checks stay new
            assert json.loads((output / "summary.json").read_text())["stats"]["new"] == 2
    second = another_run(tmp_path / "second")
    assert run_id(second) != first
    build_report(second / "allure-results", tmp_path / "report", history, log=lambda _: None)
    build_report(second / "allure-results", tmp_path / "report", history, log=lambda _: None)
    assert history_runs(history) == [first, run_id(second)]
    entries = [json.loads(line) for line in history.read_text().splitlines()]
    assert [entry[HISTORY_RUN_FIELD] for entry in entries] == [first, run_id(second)]
    statuses = [{r["name"]: r["status"] for r in entry["testResults"].values()} for entry in entries]
    assert statuses == [
        {"http:checkout": "failed", "http:home": "passed"},
        {"http:checkout": "passed", "http:home": "passed"},
    ]


def test_single_file_report_goes_beside_the_multi_file_one(
    finished_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    reports = tmp_path / "reports"
    monkeypatch.setenv("OPSVERIFY_REPORTS_DIR", str(reports))
    results = ["--results", str(finished_run / "allure-results")]
    assert main(["report", *results]) == 0
    multi = reports / "allure-report" / "index.html"
    assert multi.is_file()
    assert (reports / "allure-report" / "data").is_dir()
    before = multi.read_bytes()
    assert main(["report", "--single-file", *results]) == 0
    single = reports / "allure-report-single" / "index.html"
    assert f"single-file report: {single}" in capsys.readouterr().out
    assert single.stat().st_size > 100_000
    assert not (single.parent / "data").exists()
    assert multi.read_bytes() == before
    assert (reports / "allure-report" / "data").is_dir()
    assert history_runs(reports / "allure-history.jsonl") == [run_id(finished_run)]


def test_results_without_a_run_id_are_keyed_by_their_files(finished_run: Path, tmp_path: Path) -> None:
    """Results written before the run id was recorded still join the history once."""
    results = tmp_path / "older-results"
    results.mkdir()
    for path in (finished_run / "allure-results").glob("*-result.json"):
        (results / path.name).write_bytes(path.read_bytes())
    assert run_key(results) == run_key(results)
    assert run_key(results).startswith("results-")
    assert run_key(finished_run / "allure-results") == run_id(finished_run)
