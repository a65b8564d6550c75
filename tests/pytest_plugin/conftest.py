"""Helpers for driving pytest with the opsverify plugin from outside, in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.backups.pgdumps import dumps, source_db  # noqa: F401 - latest_backup / sandbox_postgres tests
from tests.backups.s3.motoserver import moto_s3  # noqa: F401 - a bucket for them (moto's standalone server)
from tests.conftest import REPO, RunResult


def target_text(name: str, base_url: str, entries: dict[str, str]) -> str:
    """A target file with one http entry per `name: extra keys` (e.g. `tiers: [weekly]`)."""
    lines = [f"target: {name}", "http:" if entries else "http: {}"]
    for entry, extra in entries.items():
        keys = f", {extra}" if extra else ""
        lines.append(f"  {entry}: {{url: '{base_url}/{entry}'{keys}}}")
    return "\n".join(lines) + "\n"


@pytest.fixture
def run_pytest(tmp_path: Path) -> Callable[..., RunResult]:
    """`run_pytest(*args, cwd=..., env=...)`: `python -m pytest ARGS` as typed, no --rootdir added."""

    def run(
        *args: str, cwd: Path = REPO, env: dict[str, str] | None = None, timeout: float = 120
    ) -> RunResult:
        reports = tmp_path / "reports"
        environment = {k: v for k, v in os.environ.items() if not k.startswith("OPSVERIFY_TARGET")}
        environment |= {"OPSVERIFY_REPORTS_DIR": str(reports), "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}
        command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args]
        completed = subprocess.run(
            command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=timeout, check=False
        )
        return RunResult(completed.returncode, completed.stdout + completed.stderr, reports, 0.0)

    return run
