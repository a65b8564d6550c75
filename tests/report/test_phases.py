"""Probe phases as nested Allure steps: a real run writes one sub-step per phase inside `probe <id>`,
failed where the phase failed (a refused connection, a broken query), passed otherwise."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import json_response, refused_port


def probed_results(folder: Path) -> dict[str, dict[str, Any]]:
    """Results of the built-in checks by check id (custom tests titled with the same id are left out)."""
    results = [json.loads(p.read_text()) for p in folder.glob("*-result.json")]
    return {r["name"]: r for r in results if r["steps"] and r["steps"][0]["name"].startswith("probe ")}


def phase_steps(result: dict[str, Any], check_id: str) -> list[tuple[str, str]]:
    probe, verify = result["steps"]
    assert probe["name"] == f"probe {check_id}"
    assert verify["name"] == f"verify {check_id} against the target file"
    return [(step["name"], step["status"]) for step in probe.get("steps", [])]


def test_probe_phases_are_nested_steps(http_server, pg_url, run_checks) -> None:
    http_server.routes["/up"] = json_response({"status": "ok"})
    down = refused_port()
    target = f"""\
target: phases
http:
  home: {{url: '{http_server.url}/up', samples: 2, tiers: [smoke]}}
  gone: {{url: 'http://127.0.0.1:{down}/up', tiers: [smoke]}}
postgres:
  main:
    url: {pg_url}
    max_connections_pct: 100
    tiers: [smoke]
    queries:
      one: {{sql: "select 1", equals: 1}}
      broken: {{sql: "select * from opsverify_no_such_table_phases", equals: 1}}
"""
    run = run_checks(target, "-m", "smoke")
    assert run.returncode == 1, run.output
    results = probed_results(run.reports / "allure-results")

    home = phase_steps(results["http:home"], "http:home")
    assert [status for _, status in home] == ["passed"] * 3
    assert home[0][0].startswith(f"GET {http_server.url}/up sample 1: HTTP 200 (")
    assert home[1][0].startswith(f"GET {http_server.url}/up sample 2: HTTP 200 (")
    assert home[2][0].startswith("read the body: ")

    gone_result = results["http:gone"]
    ((name, status),) = phase_steps(gone_result, "http:gone")
    assert name.startswith(f"GET http://127.0.0.1:{down}/up: connection refused by ")
    assert status == "failed"
    failed_step = gone_result["steps"][0]["steps"][0]
    assert "connection refused" in failed_step["statusDetails"]["message"]
    assert not failed_step["statusDetails"].get("trace")

    main = results["postgres:main"]
    assert main["status"] == "passed"
    assert results["postgres:main/broken"]["status"] == "failed"  # each named query is a check of its own
    steps = phase_steps(main, "postgres:main")
    prefixes = [
        "connect to ",
        "select 1: ok (",
        "connections (pg_stat_activity): ",
        "longest active query: ",
        "query one: 1",
        "query broken: query failed on ",
    ]
    assert len(steps) == len(prefixes), steps
    for (name, _), prefix in zip(steps, prefixes, strict=True):
        assert name.startswith(prefix), (name, prefix)
    assert [status for _, status in steps] == ["passed"] * 5 + ["failed"]
    assert "read-only session" in steps[0][0]
    assert "opsverify_no_such_table_phases" in steps[5][0]
