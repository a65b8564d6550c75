"""Several targets in one run: `pytest --target a --target b` (ids carry the target; a summary per target)."""

from __future__ import annotations

import json

from tests.conftest import json_response


def target_text(name: str, url: str) -> str:
    return f"target: {name}\nhttp:\n  health:\n    url: {url}\n    tiers: [smoke]\n"


def test_two_targets_in_one_run(run_checks, http_server, tmp_path):
    http_server.routes["/ok"] = json_response({"status": "ok"})
    http_server.routes["/down"] = json_response({"status": "down"}, status=503)
    api = tmp_path / "api.yaml"
    api.write_text(target_text("api", f"{http_server.url}/ok"))
    web = tmp_path / "web.yaml"
    web.write_text(target_text("web", f"{http_server.url}/down"))

    result = run_checks(api, f"--target={web}", "-m", "smoke", "-v")

    assert result.returncode == 1, result.output
    assert "[api/http:health] PASSED" in result.output
    assert "[web/http:health] FAILED" in result.output
    assert "target api [smoke]: 1 checks: 1 passed" in result.output
    assert "target web [smoke]: 1 checks: 0 passed, 1 failed" in result.output
    summary = json.loads((result.reports / "summary.json").read_text())
    assert summary["targets"] == ["api", "web"]
    assert [(c["target"], c["status"]) for c in summary["checks"]] == [("api", "passed"), ("web", "failed")]
