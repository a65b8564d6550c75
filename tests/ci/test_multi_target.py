"""Several targets in one run: `pytest --target a --target b` (node ids differ by their file; a summary per target)."""

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
    assert "api.yaml::http:health PASSED" in result.output
    assert "web.yaml::http:health FAILED" in result.output
    assert "target api [smoke]: 1 check: 1 passed" in result.output
    assert "target web [smoke]: 1 check: 0 passed, 1 failed" in result.output
    summary = json.loads((result.reports / "summary.json").read_text())
    assert summary["targets"] == ["api", "web"]
    assert [(c["target"], c["status"]) for c in summary["checks"]] == [("api", "passed"), ("web", "failed")]


def notified_target_text(name: str, url: str, hook: str) -> str:
    return target_text(name, url) + (
        "notify:\n"
        f"  channels:\n    hook: {{webhook: {{url: '{hook}'}}}}\n"
        "  routes:\n    - {match: {status: [failed, completed]}, to: [hook]}\n"
    )


def test_each_target_notifies_its_own_channels_once(run_checks, http_server, tmp_path):
    http_server.routes["/ok"] = json_response({"status": "ok"})
    http_server.routes["/down"] = json_response({"status": "down"}, status=503)
    http_server.routes["/hook-api"] = http_server.routes["/hook-web"] = (200, {}, b"ok")
    api = tmp_path / "api.yaml"
    api.write_text(notified_target_text("api", f"{http_server.url}/ok", f"{http_server.url}/hook-api"))
    web = tmp_path / "web.yaml"
    web.write_text(notified_target_text("web", f"{http_server.url}/down", f"{http_server.url}/hook-web"))

    result = run_checks(api, f"--target={web}", "-m", "smoke")

    assert result.returncode == 1, result.output
    sent = {r["path"]: json.loads(r["body"]) for r in http_server.requests if r["path"].startswith("/hook")}
    assert len([r for r in http_server.requests if r["path"].startswith("/hook")]) == 2
    assert (sent["/hook-api"]["target"], sent["/hook-api"]["status"]) == ("api", "completed")
    assert (sent["/hook-web"]["target"], sent["/hook-web"]["status"]) == ("web", "failed")
    assert json.dumps(sent["/hook-api"]).count("web/http:health") == 0
