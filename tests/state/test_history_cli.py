"""`opsverify history CHECK_ID`: the last runs of a check from the state store."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.notify.e2e import Service, target_yaml


def test_history_shows_the_last_runs_with_their_figures(http_server, run_checks, tmp_path) -> None:
    service = Service(http_server).install()
    text = target_yaml(service.server.url, "  routes: []\n")
    for healthy in (False, True):
        service.healthy = healthy
        run_checks(text)
    env = {**os.environ, "OPSVERIFY_STATE_DIR": str(tmp_path / "reports" / "state")}
    shown = subprocess.run(
        [sys.executable, "-m", "opsverify", "history", "http:api", "--target", str(tmp_path / "target.yaml")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == "http:api on shop-prod: the last 2 runs, newest first"
    assert " passed " in lines[1]
    assert " failed " in lines[2]
    assert "status: expected 200, got 503" in lines[2]
    assert "latency_ms=" in lines[1]
    missing = subprocess.run(
        [
            sys.executable,
            "-m",
            "opsverify",
            "history",
            "http:nope",
            "--target",
            str(tmp_path / "target.yaml"),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert missing.returncode == 1
    assert "no runs of http:nope on shop-prod" in missing.stdout
