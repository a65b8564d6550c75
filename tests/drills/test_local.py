"""The `local` sandbox for real: initdb + pg_ctl in a temp folder (as root: run as the postgres user)."""

from __future__ import annotations

import os
import pwd
import tempfile
import time
from pathlib import Path

import psycopg
import pytest

from opsverify.drills.local import LocalSandbox, find_server_bin, reap_local_sandboxes
from opsverify.drills.sandbox import SandboxUnavailable


def postgres_pids_in(pgid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rfind(")") + 2 :].split()
            if fields[2] == str(pgid) and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def test_local_sandbox_starts_serves_and_leaves_nothing() -> None:
    sandbox = LocalSandbox()
    sandbox.start()
    try:
        workdir, pid = sandbox.workdir, sandbox.postmaster_pid
        assert workdir is not None
        assert pid is not None
        assert workdir.name.startswith("opsverify_drill_")
        with psycopg.connect(sandbox.admin_url, connect_timeout=10) as connection:
            user = connection.execute("select current_setting('data_directory')").fetchone()
            assert user == (str(workdir / "data"),)
            assert connection.execute("show fsync").fetchone() == ("off",)
        if os.geteuid() == 0:
            assert (workdir / "data").stat().st_uid == pwd.getpwnam("postgres").pw_uid
    finally:
        sandbox.stop()
    assert not workdir.exists()
    assert postgres_pids_in(pid) == []
    sandbox.stop()  # idempotent


def test_server_binaries_found_or_explained(tmp_path: Path) -> None:
    folder = find_server_bin()
    assert (folder / "initdb").is_file()
    assert (folder / "pg_ctl").is_file()
    assert find_server_bin(dumped_from="15.20 (Debian 15.20-0+deb12u1)") == folder
    with pytest.raises(SandboxUnavailable, match=f"initdb/pg_ctl not found in server_bin {tmp_path}"):
        find_server_bin(str(tmp_path))


@pytest.mark.usefixtures("private_tempdir")
def test_stale_sandbox_folders_are_reaped() -> None:
    stale = Path(tempfile.mkdtemp(prefix="opsverify_drill_"))
    (stale / "data").mkdir()
    old = time.time() - 2 * 86400
    os.utime(stale, (old, old))
    fresh = Path(tempfile.mkdtemp(prefix="opsverify_drill_"))
    try:
        reaped = reap_local_sandboxes()
        assert stale.name in reaped
        assert not stale.exists()
        assert fresh.exists()
    finally:
        fresh.rmdir()
