"""A real scheduled job: the pytest run of `opsverify run smoke --target ...` against a local HTTP service."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import REPO, json_response
from tests.scheduler.conftest import run_cli


def target(path: Path, name: str, url: str) -> str:
    path.write_text(f"target: {name}\nhttp:\n  health:\n    url: {url}\n    tiers: [smoke]\n")
    return str(path)


def test_scheduled_pytest_runs_against_real_targets(project, http_server):
    http_server.routes["/healthz"] = json_response({"status": "ok"})
    http_server.routes["/broken"] = json_response({"status": "down"}, status=503)
    good = target(project / "good.yaml", "good", f"{http_server.url}/healthz")
    bad = target(project / "bad.yaml", "bad", f"{http_server.url}/broken")
    reports = project / "reports"
    (project / "schedule.yaml").write_text(
        f"workdir: {REPO}\n"
        f"log: {reports}/scheduler.jsonl\n"
        f"output_dir: {reports}/scheduler\n"
        f"state_dir: {reports}/state\n"
        "jobs:\n"
        f"  gate: {{every: 30s, target: {good}, tiers: [smoke], args: [-p, no:cacheprovider, -v],"
        f" env: {{OPSVERIFY_REPORTS_DIR: {reports}/run}}}}\n"
        f"  fleet: {{every: day, at: '02:00', target: [{good}, {bad}], tiers: [smoke, daily],"
        f" args: [-p, no:cacheprovider, -v], env: {{OPSVERIFY_REPORTS_DIR: {reports}/run}}}}\n"
    )
    passed = run_cli(project, "--once", "gate", timeout=120)
    assert passed.returncode == 0, passed.stderr
    failed = run_cli(project, "--once", "fleet", timeout=120)
    assert failed.returncode == 1, failed.stderr

    gate, fleet = (json.loads(line) for line in (reports / "scheduler.jsonl").read_text().splitlines())
    assert (gate["job"], gate["status"], gate["exit_code"]) == ("gate", "passed", 0)
    assert (fleet["job"], fleet["status"], fleet["exit_code"]) == ("fleet", "failed", 1)
    gate_output = Path(gate["output"]).read_text()
    assert f"-m pytest --rootdir={REPO} -c {REPO / 'pyproject.toml'} -m smoke --target={good} " in gate_output
    assert gate_output.splitlines()[1].endswith(" -p no:cacheprovider -v")
    assert f"{good}::http:health PASSED" in gate_output
    assert "1 passed" in gate_output
    fleet_output = Path(fleet["output"]).read_text()
    assert " -m smoke or daily " in fleet_output  # the output's header line: the command's words, joined
    assert f"{good}::http:health PASSED" in fleet_output
    assert f"{bad}::http:health FAILED" in fleet_output
    assert any(r["path"] == "/healthz" for r in http_server.requests)
    assert any(r["path"] == "/broken" for r in http_server.requests)
