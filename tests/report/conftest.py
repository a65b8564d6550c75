"""A finished run's reports folder, shared by the report-building tests of a module (one run, not one per test),
and the Allure CLI installed once per test session into a temporary folder (never the user's cache)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, LocalHTTPServer, json_response

FAILED_CHECK = "http:checkout"
FAILED_REASON = "status: expected 200, got 503"


def run_suite(folder: Path, url: str) -> subprocess.CompletedProcess[str]:
    return run_smoke(
        folder,
        f"target: shop-prod\nhttp:\n  checkout: {{url: '{url}/checkout', tiers: [smoke], severity: critical}}\n"
        f"  home: {{url: '{url}/up', tiers: [smoke]}}\n",
    )


def run_smoke(
    folder: Path, target_text: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`pytest checks --target FOLDER/target.yaml -m smoke` run from `folder` (with `env` added), its reports
    and state under FOLDER/reports."""
    target = folder / "target.yaml"
    target.write_text(target_text)
    environment = {
        **os.environ,
        "OPSVERIFY_REPORTS_DIR": str(folder / "reports"),
        "OPSVERIFY_STATE_DIR": str(folder / "reports" / "state"),
        **(env or {}),
    }
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--rootdir", str(REPO)]
    command += [
        "-c",
        str(REPO / "pyproject.toml"),
        str(REPO / "checks"),
        "--target",
        str(target),
        "-m",
        "smoke",
    ]
    return subprocess.run(
        command, cwd=folder, env=environment, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reports folder of a smoke run where http:checkout failed (503) and http:home passed."""
    server = LocalHTTPServer().start()
    server.routes["/up"] = json_response({"status": "ok"})
    server.routes["/checkout"] = json_response({"status": "down"}, 503)
    folder = tmp_path_factory.mktemp("run")
    try:
        completed = run_suite(folder, server.url)
    finally:
        server.stop()
    assert completed.returncode == 1, completed.stdout + completed.stderr
    return folder / "reports"


@pytest.fixture(scope="session", autouse=True)
def allure_cli_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """$OPSVERIFY_ALLURE_HOME: a temporary folder for the session (the CLI is installed there once)."""
    home = tmp_path_factory.mktemp("allure-home")
    before = os.environ.get("OPSVERIFY_ALLURE_HOME")
    os.environ["OPSVERIFY_ALLURE_HOME"] = str(home)
    yield home
    if before is None:
        os.environ.pop("OPSVERIFY_ALLURE_HOME", None)
    else:
        os.environ["OPSVERIFY_ALLURE_HOME"] = before
