"""Tiers are registered markers; every entry becomes a test `kind:name` with its tiers' marks."""

from __future__ import annotations

from collections.abc import Callable

from tests.conftest import LocalHTTPServer, RunResult, json_response
from tests.pytest_plugin.conftest import target_text

ENTRIES = {
    "api-health": "",  # http's default tiers: smoke, daily
    "admin": "tiers: [daily]",
    "report": "tiers: [weekly, monthly]",
    "old": "tiers: [smoke], enabled: false",
}


def test_ids_and_collect_only_runs_no_probe(
    run_checks: Callable[..., RunResult], http_server: LocalHTTPServer
) -> None:
    result = run_checks(target_text("shop", http_server.url, ENTRIES), "--collect-only", "-q")
    assert result.returncode == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("target.yaml::")]
    assert lines == [
        "target.yaml::http:api-health",
        "target.yaml::http:admin",
        "target.yaml::http:report",
    ]
    assert http_server.requests == []  # collecting probes nothing


def test_a_tier_selects_its_entries_and_only_those_are_probed(
    run_checks: Callable[..., RunResult], http_server: LocalHTTPServer
) -> None:
    http_server.routes["*"] = json_response({"ok": True})
    result = run_checks(target_text("shop", http_server.url, ENTRIES), "-m", "smoke", "-v")
    assert result.returncode == 0, result.output
    assert "target.yaml::http:api-health PASSED" in result.output
    assert "1 passed" in result.output
    assert "admin" not in result.output.split("short test summary")[0]
    assert [request["path"] for request in http_server.requests] == ["/api-health"]


def test_marker_expressions_combine_tiers(
    run_checks: Callable[..., RunResult], http_server: LocalHTTPServer
) -> None:
    result = run_checks(
        target_text("shop", http_server.url, ENTRIES), "-m", "daily and not smoke", "--co", "-q"
    )
    assert result.returncode == 0, result.output
    assert "target.yaml::http:admin" in result.output
    assert "api-health" not in result.output
    assert "report" not in result.output


def test_nothing_selected_is_exit_code_5(
    run_checks: Callable[..., RunResult], http_server: LocalHTTPServer
) -> None:
    result = run_checks(target_text("shop", http_server.url, ENTRIES), "-m", "quarterly")
    assert result.returncode == 5, result.output
    assert http_server.requests == []


def test_tiers_are_registered_markers(
    run_checks: Callable[..., RunResult], http_server: LocalHTTPServer
) -> None:
    result = run_checks(target_text("shop", http_server.url, {}), "--markers")
    assert result.returncode == 0, result.output
    for tier in ("smoke", "daily", "weekly", "monthly", "quarterly", "dr"):
        assert sum(line.startswith(f"@pytest.mark.{tier}:") for line in result.output.splitlines()) == 1, tier
