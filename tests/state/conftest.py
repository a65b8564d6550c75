"""A fresh PostgreSQL database per test for the shared store, and a way to start runs side by side."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from uuid import uuid4

import psycopg
import pytest


@pytest.fixture
def state_pg_url(pg_url: str) -> Iterator[str]:
    """The URL of a new, empty database on the test PostgreSQL (dropped afterwards)."""
    name = f"opsverify_state_{uuid4().hex[:10]}"
    with psycopg.connect(pg_url, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    parts = urlsplit(pg_url)
    yield urlunsplit(parts._replace(path=f"/{name}"))
    with psycopg.connect(pg_url, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def start_run(
    folder: Path, target: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """Start `pytest --target=...` from `folder` (its own reports/ and state: one CI runner) without waiting."""
    folder.mkdir(parents=True, exist_ok=True)
    environment = {
        **os.environ,
        "OPSVERIFY_REPORTS_DIR": str(folder / "reports"),
        "OPSVERIFY_STATE_DIR": str(folder / "reports" / "state"),
        "PYTHONDONTWRITEBYTECODE": "1",
        **(env or {}),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--target={target}", *args],
        cwd=folder,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(process: subprocess.Popen[str], timeout: float = 300) -> tuple[int, str]:
    output, _ = process.communicate(timeout=timeout)
    return process.returncode, output
