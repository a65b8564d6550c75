"""MySQL/MariaDB drills for real: mariadb-dump output restored through the `mariadb` client into a `url`
sandbox (the test server) and a `local` one (a temporary mariadbd), verified, torn down; the production
guard, a killed server and leftovers."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import signal
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from opsverify.config.target import load_target
from opsverify.drills.mysql import reap
from opsverify.drills.mysql_sandbox import LOCAL_PREFIX, MysqlLocalSandbox, reap_local_mysql_sandboxes
from opsverify.drills.sandbox import Sandbox
from opsverify.kinds.base import ProbeContext
from opsverify.kinds.restore.facts import DrillFacts
from opsverify.kinds.restore.probe import DrillHooks, probe
from opsverify.kinds.restore.verdict import judge
from tests.backups.mysqldumps import ROWS, MysqlDumps
from tests.backups.pgdumps import place
from tests.drills.helpers import evidence_lines
from tests.mysql_server import admin, with_database

GOOD_EXPECT: dict[str, Any] = {
    "tables": ["customers", "orders"],
    "min_rows": {"orders": ROWS, "customers": 100},
    "queries": {
        "revision": {"sql": "select version_num from alembic_version", "equals": "0086"},
        "big-orders": {"sql": "select count(*) from orders where total > 100", "min": 1},
    },
    "freshness": {"sql": "select max(created_at) from orders", "max_lag": "1h"},
}


def drill(
    tmp_path: Path,
    folder: Path,
    restore: dict[str, Any],
    mysql: dict[str, Any] | None = None,
    hooks: DrillHooks | None = None,
    **keys: Any,
) -> tuple[DrillFacts, list[str]]:
    document: dict[str, Any] = {
        "target": "shop",
        "backups": {
            "db": {"path": str(folder), "settle": 0, **keys, "restore": {"expect": GOOD_EXPECT, **restore}}
        },
    }
    if mysql:
        document["mysql"] = mysql
    path = tmp_path / "target.yaml"
    path.write_text(yaml.safe_dump(document))
    target = load_target(str(path))
    entry = target.model.backups["db"]  # type: ignore[attr-defined]
    facts = probe(entry, ProbeContext(target.name, target.base_dir, target=target, entry_name="db"), hooks)
    return facts, [problem.text for problem in judge(entry, facts).problems]


def drill_databases(mysql_url: str) -> set[str]:
    with admin(mysql_url) as conn, conn.cursor() as cursor:
        cursor.execute("show databases like 'opsverify\\_drill\\_%'")
        return {str(row[0]) for row in cursor.fetchall()}


def source_rows(dumps: MysqlDumps) -> int:
    with admin(dumps.url) as conn, conn.cursor() as cursor:
        cursor.execute("select count(*) from orders")
        return int(cursor.fetchone()[0])


@pytest.mark.parametrize("which", ["plain", "plain_gz"])
def test_url_sandbox_restores_verifies_and_drops(
    mysql_dumps: MysqlDumps, mysql_url: str, tmp_path: Path, reports: Path, which: str
) -> None:
    backup = place(getattr(mysql_dumps, which), tmp_path / "backups")
    with admin(mysql_dumps.url) as conn, conn.cursor() as cursor:
        cursor.execute("insert into orders (customer_id, total) values (1, 1)")  # only in the source
    try:
        facts, problems = drill(
            tmp_path, tmp_path / "backups", {"sandbox": "url", "sandbox_url": mysql_url, "rto": "1h"}
        )
        assert problems == [], facts.error
        assert [s.name for s in facts.steps] == [
            "find",
            "integrity",
            "sandbox",
            "restore",
            "verify",
            "teardown",
        ]
        assert facts.verification.row_counts == {"customers": 100, "orders": ROWS}
        assert facts.verification.queries["revision"] == "0086"
        assert facts.restore is not None
        assert facts.restore.program in ("mariadb", "mysql")
        # A --databases dump names the source database: the drill restored into its own database instead.
        assert source_rows(mysql_dumps) == ROWS + 1
        # its own drill database is dropped (others' may come and go meanwhile: the server is shared)
        assert facts.database is not None
        assert facts.database.startswith("opsverify_drill_")
        assert facts.database not in drill_databases(mysql_url)
    finally:
        with admin(mysql_dumps.url) as conn, conn.cursor() as cursor:
            cursor.execute("delete from orders where id > %s", (ROWS,))
    (record,) = evidence_lines(reports)
    assert record["verdict"] == "passed"
    assert record["file"] == str(backup)
    assert record["sandbox"] == "url"
    assert record["rows_checked"] == ROWS + 100
    assert record["database"].startswith("opsverify_drill_")


def test_local_sandbox_restores_and_leaves_nothing(
    mysql_dumps: MysqlDumps, tmp_path: Path, private_tempdir: Path
) -> None:
    place(mysql_dumps.plain_gz, tmp_path / "backups")
    seen: list[Sandbox] = []
    facts, problems = drill(
        tmp_path, tmp_path / "backups", {"sandbox": "local"}, hooks=DrillHooks(on_sandbox_ready=seen.append)
    )
    assert problems == [], facts.error
    assert facts.sandbox == "local"
    assert facts.verification.row_counts["orders"] == ROWS
    (sandbox,) = seen
    assert isinstance(sandbox, MysqlLocalSandbox)
    assert sandbox.workdir is None  # stopped and removed
    assert not list(private_tempdir.glob(f"{LOCAL_PREFIX}*"))


def test_verification_failures_are_each_named(
    mysql_dumps: MysqlDumps, mysql_url: str, tmp_path: Path
) -> None:
    place(mysql_dumps.plain, tmp_path / "b")
    expect = {
        "tables": ["orders", "payments"],
        "min_rows": {"orders": ROWS + 1},
        "queries": {"revision": {"sql": "select version_num from alembic_version", "equals": "0087"}},
    }
    _facts, problems = drill(
        tmp_path, tmp_path / "b", {"sandbox": "url", "sandbox_url": mysql_url, "expect": expect}
    )
    text = "\n".join(problems)
    assert "payments" in text
    assert f"{ROWS + 1}" in text
    assert '"0087"' in text


def test_a_broken_dump_stops_before_the_sandbox(
    mysql_dumps: MysqlDumps, mysql_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "b"
    folder.mkdir()
    data = mysql_dumps.plain_gz.read_bytes()
    (folder / "shop.sql.gz").write_bytes(data[: len(data) // 2])
    facts, problems = drill(tmp_path, folder, {"sandbox": "url", "sandbox_url": mysql_url})
    assert any("gzip stream is truncated" in problem for problem in problems), problems
    assert "sandbox" not in [step.name for step in facts.steps]


def test_the_production_database_is_refused(mysql_dumps: MysqlDumps, mysql_url: str, tmp_path: Path) -> None:
    place(mysql_dumps.plain, tmp_path / "b")
    _facts, problems = drill(
        tmp_path,
        tmp_path / "b",
        {"sandbox": "url", "sandbox_url": mysql_dumps.url},
        mysql={"shop": {"url": mysql_dumps.url}},
    )
    assert any("refusing to drill" in problem and "mysql entry 'shop'" in problem for problem in problems), (
        problems
    )
    assert source_rows(mysql_dumps) == ROWS


def test_a_killed_server_fails_the_restore_and_is_cleaned_up(
    mysql_dumps: MysqlDumps, tmp_path: Path, private_tempdir: Path
) -> None:
    place(mysql_dumps.plain_gz, tmp_path / "b")
    killed: list[int] = []

    def kill(sandbox: Sandbox | None, written: int) -> None:
        if not killed and isinstance(sandbox, MysqlLocalSandbox) and sandbox.process is not None:
            killed.append(sandbox.process.pid)
            os.killpg(sandbox.process.pid, signal.SIGKILL)
            sandbox.process.wait()

    _facts, problems = drill(
        tmp_path, tmp_path / "b", {"sandbox": "local"}, hooks=DrillHooks(on_restore_progress=kill)
    )
    assert killed, problems
    assert any("restore failed" in problem for problem in problems), problems
    assert not list(private_tempdir.glob(f"{LOCAL_PREFIX}*"))


@pytest.mark.usefixtures("private_tempdir")
def test_leftovers_are_reaped(mysql_url: str) -> None:
    stale = Path(tempfile.mkdtemp(prefix=LOCAL_PREFIX))
    (stale / "data").mkdir()
    old = time.time() - 2 * 86400
    os.utime(stale, (old, old))
    fresh = Path(tempfile.mkdtemp(prefix=LOCAL_PREFIX))
    try:
        reaped = reap_local_mysql_sandboxes()
        assert stale.name in reaped
        assert not stale.exists()
        assert fresh.exists()
    finally:
        fresh.rmdir()
    # two hours old, reaped past one hour: other processes' drills on the same server reap past a day only
    stamp = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)).strftime("%Y%m%d%H%M%S")
    leftover = f"opsverify_drill_{stamp}_{secrets.token_hex(3)}"
    with admin(mysql_url) as conn, conn.cursor() as cursor:
        cursor.execute(f"create database `{leftover}`")
        assert leftover in reap(cursor, older_than=3600)
    assert leftover not in drill_databases(mysql_url)
    assert with_database(mysql_url, "x").endswith("/x")


SIGTERM_SCRIPT = """
import sys, time
from pathlib import Path
from opsverify.kinds.restore.probe import DrillHooks
from tests.drills.test_mysql_drill import drill

tmp = Path(sys.argv[1])

def restoring(sandbox, written):
    print("RESTORING", sandbox.workdir, flush=True)
    time.sleep(60)

drill(tmp, tmp / "b", {"sandbox": "local"}, hooks=DrillHooks(on_restore_progress=restoring))
print("NOT INTERRUPTED", flush=True)
"""


def test_sigterm_mid_restore_tears_the_local_server_down(
    mysql_dumps: MysqlDumps, tmp_path: Path, reports: Path
) -> None:
    import subprocess
    import sys

    import psutil

    from tests.conftest import REPO

    place(mysql_dumps.plain_gz, tmp_path / "b")
    script = tmp_path / "drill.py"
    script.write_text(SIGTERM_SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(REPO), "OPSVERIFY_REPORTS_DIR": str(reports)}
    process = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith("RESTORING"), line + (process.stderr.read() if process.stderr else "")
    workdir = line.split(maxsplit=1)[1].strip()
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=90)
    assert process.returncode == -signal.SIGTERM, err
    assert "NOT INTERRUPTED" not in out
    (record,) = evidence_lines(reports)
    assert record["verdict"] == "interrupted"
    assert not Path(workdir).exists()
    assert [p for p in psutil.process_iter(["cmdline"]) if workdir in " ".join(p.info["cmdline"] or [])] == []
