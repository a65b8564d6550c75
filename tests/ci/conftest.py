"""Helpers for the ci/ tests: read the templates, find the linters installed with the dev extras."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO

CI = REPO / "ci"
VENV_BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    """A linter from the dev extras (next to this interpreter) or PATH; missing is a failure, not a skip."""
    found = shutil.which(name, path=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if not found:
        pytest.fail(
            f"{name} is not installed: run `make venv` (it comes with the dev extras in pyproject.toml)"
        )
    return found


def load(path: Path) -> Any:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def render(text: str, context: dict[str, str]) -> str:
    """Replace `${{ name }}` expressions the way the CI system would; an unknown one is an error."""

    def value(match: re.Match[str]) -> str:
        expression = match[1].strip()
        if expression not in context:
            raise KeyError(f"no value for ${{{{ {expression} }}}} in this test")
        return context[expression]

    return re.sub(r"\$\{\{(.*?)\}\}", value, text)


def run_bash(
    script: str, env: dict[str, str], cwd: Path, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run a CI step's script as the runners do: bash with -e and pipefail."""
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def base_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPSVERIFY_", "GATE_"))}
    env.update(
        PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        OPSVERIFY_REPORTS_DIR=str(tmp_path / "reports"),
        OPSVERIFY_STATE_DIR=str(tmp_path / "reports" / "state"),
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(extra)
    return env
