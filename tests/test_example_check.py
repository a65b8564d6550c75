"""The example of a hand-written check that `opsverify init` writes (checks/example_revision_check.py), used
as its docstring says: entry names set, renamed to checks/test_revision.py, run with `opsverify run daily`
against a real HTTP service and a real PostgreSQL. It passes when the API and the database agree on the
revision, fails clearly when they do not, and skips, saying why, on a target without the entries."""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from opsverify.cli import main
from tests.conftest import LocalHTTPServer, json_response, run_opsverify

REVISION = "0086"
TEST_ID = "checks/test_revision.py::test_api_expects_the_database_revision"


@pytest.fixture
def database(pg_url: str) -> Iterator[str]:
    """URL of a fresh database whose alembic_version is at REVISION; dropped afterwards."""
    name = f"opsverify_test_example_{secrets.token_hex(4)}"
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    url = pg_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("create table alembic_version (version_num varchar(32) primary key)")
            conn.execute("insert into alembic_version values (%s)", (REVISION,))
        yield url
    finally:
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture
def ops(tmp_path: Path) -> Path:
    """`opsverify init`, then the example made a check: its entry names set, renamed to test_revision.py."""
    root = tmp_path / "ops"
    assert main(["init", str(root)]) == 0
    example = root / "checks" / "example_revision_check.py"
    text = example.read_text()
    for old, new in (
        ('HEALTH_ENTRY = "api-health"', 'HEALTH_ENTRY = "api"'),
        ('DATABASE_ENTRY = "main"', 'DATABASE_ENTRY = "app"'),
    ):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    (root / "checks" / "test_revision.py").write_text(text)
    example.unlink()
    return root


def run_daily(root: Path, target_text: str) -> subprocess.CompletedProcess[str]:
    """`opsverify run daily --target NAME` in the ops repository, as a user runs it in a shell."""
    name = target_text.split("\n", 1)[0].removeprefix("target: ")
    (root / "targets" / f"{name}.yaml").write_text(target_text)
    environment = {
        "OPSVERIFY_REPORTS_DIR": str(root / "reports"),
        "OPSVERIFY_STATE_DIR": str(root / "reports" / "state"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    args = ["run", "daily", "--target", name, "--", "-p", "no:cacheprovider", "-v", "-rs"]
    return run_opsverify(root, *args, env=environment)


def deployment(http_server: LocalHTTPServer, database: str, expected_revision: str) -> str:
    http_server.routes["/healthz"] = json_response(
        {"status": "ready", "expected_revision": expected_revision}
    )
    return f"""target: drift
http:
  api: {{url: "{http_server.url}/healthz", expect: {{json: {{status: ready}}}}}}
postgres:
  app: {{url: "{database}"}}
"""


def test_passes_when_the_api_and_database_agree(
    ops: Path, http_server: LocalHTTPServer, database: str
) -> None:
    result = run_daily(ops, deployment(http_server, database, REVISION))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert f"{TEST_ID} PASSED" in output
    assert "targets/drift.yaml::http:api PASSED" in output  # the built-in checks run beside it
    assert "targets/drift.yaml::postgres:app PASSED" in output


def test_fails_clearly_when_the_api_and_database_disagree(
    ops: Path, http_server: LocalHTTPServer, database: str
) -> None:
    result = run_daily(ops, deployment(http_server, database, "0087"))
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert f"{TEST_ID} FAILED" in output
    assert (
        "the API expects revision '0087', the database is at '0086' (select version_num from "
        "alembic_version); run the migrations (`alembic upgrade head`) or roll the API back"
    ) in output
    assert "targets/drift.yaml::http:api PASSED" in output  # only the cross-check fails
    assert "Traceback" not in output


def test_skips_with_a_reason_on_a_target_without_the_entries(ops: Path, http_server: LocalHTTPServer) -> None:
    http_server.routes["/"] = json_response({"status": "ok"})
    result = run_daily(ops, f"target: bare\nhttp:\n  web: {{url: '{http_server.url}/'}}\n")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert f"{TEST_ID} SKIPPED" in output
    assert (
        "target bare has no http entry 'api' and no postgres entry 'app' to cross-check "
        "(set HEALTH_ENTRY / DATABASE_ENTRY in checks/test_revision.py)"
    ) in output
