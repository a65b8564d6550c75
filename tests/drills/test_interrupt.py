"""Teardown when things go wrong mid-restore: the sandbox server dies, Ctrl-C, SIGTERM. Nothing is left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import psutil
import psycopg
import pytest

from opsverify.drills.local import LocalSandbox
from opsverify.drills.sandbox import Sandbox
from opsverify.kinds.restore.probe import DrillHooks
from tests.backups.pgdumps import Dumps, admin_url, assert_no_drill_database_left, drill_databases
from tests.conftest import REPO
from tests.drills.helpers import evidence_lines, run_drill


def dump_with_a_pause(dumps: Dumps, folder: Path, seconds: int = 20) -> Path:
    """The real plain dump with a pg_sleep before its trailer, so a kill is sure to land mid-restore."""
    text = dumps.plain.read_text()
    trailer = text.rindex("--\n-- PostgreSQL database dump complete")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "backup_1.sql"
    path.write_text(text[:trailer] + f"SELECT pg_sleep({seconds});\n\n" + text[trailer:])
    return path


def children() -> set[int]:
    return {child.pid for child in psutil.Process().children(recursive=True) if child.is_running()}


@pytest.fixture
def leftover_children() -> Callable[[], list[int]]:
    """Child processes started during the test and still running (session servers such as Prometheus excluded)."""
    before = children()
    return lambda: sorted(children() - before)


def test_sandbox_server_killed_mid_restore(
    dumps: Dumps, tmp_path: Path, reports: Path, leftover_children: Callable[[], list[int]]
) -> None:
    dump_with_a_pause(dumps, tmp_path / "b")
    seen: dict[str, object] = {}

    def kill_server(sandbox: Sandbox | None, _written: int) -> None:
        assert isinstance(sandbox, LocalSandbox)
        if "pid" not in seen and sandbox.postmaster_pid:
            seen["pid"], seen["workdir"] = sandbox.postmaster_pid, sandbox.workdir
            os.kill(sandbox.postmaster_pid, signal.SIGKILL)

    facts, problems = run_drill(
        tmp_path, tmp_path / "b", {"sandbox": "local"}, hooks=DrillHooks(on_restore_progress=kill_server)
    )
    (problem,) = problems
    assert problem.startswith("restore failed (psql exited with status 2): ")
    assert "the sandbox server went away during the restore" in problem
    assert [(s.name, s.ok) for s in facts.steps][-2:] == [("restore", False), ("teardown", True)]
    assert facts.teardown_problems == []
    assert not Path(str(seen["workdir"])).exists()
    # dead either way: gone, or a zombie its parent has not reaped yet (both are a killed process)
    assert (
        not psutil.pid_exists(int(str(seen["pid"])))
        or psutil.Process(int(str(seen["pid"]))).status() == "zombie"
    )
    assert [
        p
        for p in psutil.process_iter(["cmdline"])
        if str(seen["workdir"]) in " ".join(p.info["cmdline"] or [])
    ] == []
    assert leftover_children() == []
    assert evidence_lines(reports)[0]["verdict"] == "failed"


def test_restore_connection_terminated_on_a_url_sandbox(
    dumps: Dumps, tmp_path: Path, leftover_children: Callable[[], list[int]]
) -> None:
    dump_with_a_pause(dumps, tmp_path / "b")
    before = drill_databases()

    def terminate(sandbox: Sandbox | None, _written: int) -> None:
        with psycopg.connect(admin_url(), autocommit=True) as connection:
            connection.execute(
                r"select pg_terminate_backend(pid) from pg_stat_activity where datname like 'opsverify\_drill\_%'"
                " and application_name <> 'opsverify-drill' and pid <> pg_backend_pid()"
            )

    _facts, (problem,) = run_drill(tmp_path, tmp_path / "b", hooks=DrillHooks(on_restore_progress=terminate))
    assert "the sandbox server went away during the restore" in problem
    assert_no_drill_database_left(before)
    assert leftover_children() == []


SCRIPT = """
import sys, time
from opsverify.kinds.restore.probe import DrillHooks, probe
from tests.drills.helpers import load_entry, GOOD_EXPECT
from pathlib import Path

tmp = Path(sys.argv[1])
entry, context = load_entry(tmp, tmp / "b", {{"sandbox": "{sandbox}", "expect": GOOD_EXPECT}})

def restoring(sandbox, written):
    print("RESTORING", getattr(sandbox, "workdir", None), flush=True)
    time.sleep(60)

probe(entry, context, DrillHooks(on_restore_progress=restoring))
print("NOT INTERRUPTED", flush=True)
"""


@pytest.mark.parametrize(("sandbox", "sig"), [("local", signal.SIGTERM), ("url", signal.SIGINT)])
def test_signal_mid_restore_tears_down(
    dumps: Dumps, tmp_path: Path, reports: Path, sandbox: str, sig: signal.Signals
) -> None:
    dump_with_a_pause(dumps, tmp_path / "b", seconds=1)
    script = tmp_path / "drill.py"
    script.write_text(textwrap.dedent(SCRIPT.format(sandbox=sandbox)))
    before = drill_databases()
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
    assert line.startswith("RESTORING"), line
    workdir = line.split(maxsplit=1)[1].strip()
    process.send_signal(sig)
    out, err = process.communicate(timeout=60)
    assert process.returncode == -sig, err
    assert "NOT INTERRUPTED" not in out
    (record,) = evidence_lines(reports)
    assert record["verdict"] == "interrupted"
    assert record["problems"] == [
        f"drill interrupted ({'SIGTERM' if sig == signal.SIGTERM else 'Ctrl-C'}); the sandbox was torn down"
    ]
    assert_no_drill_database_left(before)
    if sandbox == "local":
        assert not Path(workdir).exists()
        assert [
            p for p in psutil.process_iter(["cmdline"]) if workdir in " ".join(p.info["cmdline"] or [])
        ] == []
