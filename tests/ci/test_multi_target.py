"""Several targets in one run: `pytest --target a --target b` (node ids differ by their file; a summary per target).

Both tests read one run (`two_targets`, made once for the module): api passes, web fails, each notifies its
own webhook."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import LocalHTTPServer, json_response


def target_text(name: str, url: str) -> str:
    return f"target: {name}\nhttp:\n  health:\n    url: {url}\n    tiers: [smoke]\n"


def notified_target_text(name: str, url: str, hook: str) -> str:
    return target_text(name, url) + (
        "notify:\n"
        f"  channels:\n    hook: {{webhook: {{url: '{hook}'}}}}\n"
        "  routes:\n    - {match: {status: [failed, completed]}, to: [hook]}\n"
    )


@dataclass
class TwoTargets:
    returncode: int
    output: str
    reports: Path
    requests: list[dict[str, Any]]  # what the targets' server received, the webhooks' messages among them


@pytest.fixture(scope="module")
def two_targets(tmp_path_factory: pytest.TempPathFactory) -> TwoTargets:
    """`pytest --target=api.yaml --target=web.yaml -m smoke -v` as an operator runs it (as `run_checks`
    does): api's health answers 200, web's 503; each target routes failed and completed runs to its own
    webhook on the same server."""
    folder = tmp_path_factory.mktemp("two-targets")
    server = LocalHTTPServer().start()
    server.routes["/ok"] = json_response({"status": "ok"})
    server.routes["/down"] = json_response({"status": "down"}, status=503)
    server.routes["/hook-api"] = server.routes["/hook-web"] = (200, {}, b"ok")
    api = folder / "api.yaml"
    api.write_text(notified_target_text("api", f"{server.url}/ok", f"{server.url}/hook-api"))
    web = folder / "web.yaml"
    web.write_text(notified_target_text("web", f"{server.url}/down", f"{server.url}/hook-web"))
    reports = folder / "reports"
    environment = {k: v for k, v in os.environ.items() if k != "OPSVERIFY_TARGET"}
    environment |= {
        "OPSVERIFY_REPORTS_DIR": str(reports),
        "OPSVERIFY_STATE_DIR": str(reports / "state"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--target={api}", f"--target={web}"]
    try:
        completed = subprocess.run(
            [*command, "-m", "smoke", "-v"],
            cwd=folder,
            env=environment,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    finally:
        server.stop()
    return TwoTargets(completed.returncode, completed.stdout + completed.stderr, reports, server.requests)


def test_two_targets_in_one_run(two_targets: TwoTargets) -> None:
    result = two_targets
    assert result.returncode == 1, result.output
    assert "api.yaml::http:health PASSED" in result.output
    assert "web.yaml::http:health FAILED" in result.output
    assert "target api [smoke]: 1 check: 1 passed" in result.output
    assert "target web [smoke]: 1 check: 0 passed, 1 failed" in result.output
    summary = json.loads((result.reports / "summary.json").read_text())
    assert summary["targets"] == ["api", "web"]
    assert [(c["target"], c["status"]) for c in summary["checks"]] == [("api", "passed"), ("web", "failed")]


def test_each_target_notifies_its_own_channels_once(two_targets: TwoTargets) -> None:
    result = two_targets
    assert result.returncode == 1, result.output
    hooks = [r for r in result.requests if r["path"].startswith("/hook")]
    sent = {r["path"]: json.loads(r["body"]) for r in hooks}
    assert len(hooks) == 2
    assert (sent["/hook-api"]["target"], sent["/hook-api"]["status"]) == ("api", "completed")
    assert (sent["/hook-web"]["target"], sent["/hook-web"]["status"]) == ("web", "failed")
    assert json.dumps(sent["/hook-api"]).count("web/http:health") == 0
