"""A real pgBackRest stanza: a throwaway PostgreSQL 15 cluster (as the postgres user) archiving its WAL with
`archive_command = pgbackrest archive-push`, a full and an incremental backup; the cluster is stopped and
removed once the backups exist. Each test reads its own copy of the repository."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from opsverify.drills.local import find_server_bin, free_port, stop_cluster

STANZA = "main"


@dataclass
class Stanza:
    repo: Path  # with a full and an incr backup
    empty_repo: Path  # the stanza created, no backup yet

    def copy(self, folder: Path, empty: bool = False) -> Path:
        """A private copy of the repository and a pgbackrest.conf for it; returns the config file."""
        shutil.copytree(self.empty_repo if empty else self.repo, folder / "repo", symlinks=True)
        config = folder / "pgbackrest.conf"
        config.write_text(conf(folder, folder / "repo", folder / "nodata", 1))
        return config


def conf(work: Path, repo: Path, data: Path, port: int) -> str:
    return (
        f"[global]\nrepo1-path={repo}\nlog-path={work}\nlock-path={work}/lock\nspool-path={work}\n"
        f"log-level-console=warn\nlog-level-file=off\nstart-fast=y\nrepo1-retention-full=9\n"
        f"[{STANZA}]\npg1-path={data}\npg1-port={port}\npg1-socket-path={work}\n"
    )


def _as_postgres(*command: str, cwd: Path) -> str:
    user = pwd.getpwnam("postgres")
    run_as = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []} if os.geteuid() == 0 else {}
    done = subprocess.run(
        list(command),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        cwd=cwd,
        **run_as,  # type: ignore[call-overload]
    )
    assert done.returncode == 0, f"{command}: {done.stderr or done.stdout}"
    return done.stdout


@pytest.fixture(scope="module")
def stanza() -> Iterator[Stanza]:
    # pytest's tmp folders are root's alone (0700): the postgres user needs a folder of its own
    work = Path(tempfile.mkdtemp(prefix="opsverify-test-pgbackrest-"))
    try:
        yield _make_stanza(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    assert not work.exists()


def _make_stanza(work: Path) -> Stanza:
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(work, user.pw_uid, user.pw_gid)
    bindir, port, data = find_server_bin(None, "15"), free_port(), work / "data"
    config = work / "pgbackrest.conf"
    config.write_text(conf(work, work / "repo", data, port))
    pgbr = ["pgbackrest", f"--config={config}", f"--stanza={STANZA}"]
    _as_postgres(
        str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync", cwd=work
    )
    archive = f"pgbackrest --config={config} --stanza={STANZA} archive-push %p"
    options = (
        f"-p {port} -c listen_addresses='' -c unix_socket_directories={work} -c archive_mode=on "
        f'-c wal_level=replica -c fsync=off -c "archive_command={archive}"'
    )
    started = False
    try:
        _as_postgres(
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(work / "server.log"),
            "-w",
            "-o",
            options,
            "start",
            cwd=work,
        )
        started = True
        _as_postgres(*pgbr, "stanza-create", cwd=work)
        empty = work / "empty-repo"
        shutil.copytree(work / "repo", empty, symlinks=True)
        _as_postgres(*pgbr, "--type=full", "backup", cwd=work)
        _as_postgres(
            str(bindir / "psql"),
            "-h",
            str(work),
            "-p",
            str(port),
            "-U",
            "postgres",
            "-c",
            "create table t as select 1 a",
            cwd=work,
        )
        _as_postgres(*pgbr, "--type=incr", "backup", cwd=work)
    finally:
        if started:
            user = pwd.getpwnam("postgres")
            run_as = (
                {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []} if os.geteuid() == 0 else {}
            )
            stop_cluster(data, bindir, None, run_as)
        shutil.rmtree(data, ignore_errors=True)
    return Stanza(work / "repo", empty)
