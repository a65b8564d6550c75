"""ci/deploy-gate.sh against local services: one that becomes healthy after a delay, one that never does."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, json_response, refused_port

GATE = REPO / "ci" / "deploy-gate.sh"


def healthy_after(seconds: float):
    """A /healthz route answering 503 until `seconds` after the first request, then 200."""
    first: list[float] = []

    def route(handler):
        first.append(time.monotonic()) if not first else None
        ready = time.monotonic() - first[0] >= seconds
        return json_response({"status": "ready" if ready else "starting"}, status=200 if ready else 503)

    return route


def gate(tmp_path: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 60):
    environment = {
        **os.environ,
        "OPSVERIFY_REPORTS_DIR": str(tmp_path / "reports"),
        "OPSVERIFY_STATE_DIR": str(tmp_path / "reports" / "state"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHON": sys.executable,
        **(env or {}),
    }
    environment.pop("OPSVERIFY_TARGET", None) if "OPSVERIFY_TARGET" not in (env or {}) else None
    started = time.monotonic()
    result = subprocess.run(
        ["bash", str(GATE), *args],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr, time.monotonic() - started


@pytest.fixture
def target(tmp_path, http_server):
    path = tmp_path / "svc.yaml"
    path.write_text(
        f"target: svc\nhttp:\n  api-health:\n    url: {http_server.url}/healthz\n    tiers: [smoke]\n"
    )
    return path


def test_waits_until_healthy_then_passes_the_smoke_tier(tmp_path, http_server, target):
    http_server.routes["/healthz"] = healthy_after(1.5)
    code, output, _seconds = gate(
        tmp_path,
        "--target",
        str(target),
        "--health-url",
        f"{http_server.url}/healthz",
        "--wait",
        "20s",
        "--interval",
        "1",
        "--",
        "-p",
        "no:cacheprovider",
        "-v",
    )
    assert code == 0, output
    assert "not ready after 0s: HTTP 503" in output
    assert f"{http_server.url}/healthz is healthy (HTTP 200) after" in output
    assert f"{target}::http:api-health PASSED" in output
    assert "deploy-gate: PASSED" in output
    assert (tmp_path / "reports" / "junit.xml").exists()


def test_a_service_that_never_becomes_healthy_fails_the_gate_in_bounded_time(tmp_path, http_server, target):
    http_server.routes["/healthz"] = json_response({"status": "starting"}, status=503)
    code, output, seconds = gate(
        tmp_path,
        "--target",
        str(target),
        "--health-url",
        f"{http_server.url}/healthz",
        "--wait",
        "2",
        "--interval",
        "1",
    )
    assert code == 69, output
    assert f"FAILED: {http_server.url}/healthz did not become healthy within 2s (last: HTTP 503)" in output
    assert "running" not in output, "the smoke tier must not run against an unhealthy service"
    assert seconds < 2 + 30  # the 2 s wait is honoured (a generous margin for a loaded machine)


def test_nothing_listening_counts_as_not_healthy(tmp_path, target):
    code, output, _ = gate(
        tmp_path,
        "--target",
        str(target),
        "--health-url",
        f"http://127.0.0.1:{refused_port()}/healthz",
        "--wait",
        "1",
        "--interval",
        "1",
    )
    assert code == 69
    assert "URLError: [Errno 111] Connection refused" in output  # the probe's own line (Linux errno text)


def test_a_failing_check_fails_the_gate_settings_from_the_environment(tmp_path, http_server, target):
    http_server.routes["/healthz"] = json_response({"status": "ok"})
    http_server.routes["/home"] = json_response({"status": "degraded"}, status=500)
    other = tmp_path / "other.yaml"
    other.write_text(f"target: other\nhttp:\n  home:\n    url: {http_server.url}/home\n    tiers: [daily]\n")
    code, output, _ = gate(
        tmp_path,
        "--",
        "-p",
        "no:cacheprovider",
        "-v",
        env={"OPSVERIFY_TARGET": f"{target},{other}", "GATE_TIERS": "smoke or daily"},
    )
    assert code == 1, output
    assert "no --health-url; the target's wait_until_ready settings decide" in output
    # Several targets: the node ids differ by their file (absolute: the files are outside the rootdir).
    assert f"{target}::http:api-health PASSED" in output
    assert f"{other}::http:home FAILED" in output
    assert "deploy-gate: FAILED: a 'smoke or daily' check failed" in output


def test_usage_errors(tmp_path, target):
    assert gate(tmp_path)[0] == 64
    code, output, _ = gate(tmp_path, "--target", str(target), "--wait", "soon")
    assert code == 64
    assert "expected a duration like 90, 90s, 2m or 1h, got 'soon'" in output
    code, output, _ = gate(tmp_path, "--target", str(target), "--bogus")
    assert code == 64
    assert "unknown option '--bogus'" in output
    code, output, _ = gate(tmp_path, "--help")
    assert code == 0
    assert "Exit codes:" in output


def test_no_checks_in_the_tier_fails(tmp_path, target):
    code, output, _ = gate(tmp_path, "--target", str(target), "--tiers", "dr", "--", "-p", "no:cacheprovider")
    assert code == 5
    assert "'dr' selected no checks" in output


def test_shellcheck_is_clean():
    shellcheck = shutil.which("shellcheck") or str(Path(sys.executable).parent / "shellcheck")
    result = subprocess.run([shellcheck, str(GATE)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout
