"""A live pgBackRest stanza: a PostgreSQL 15 cluster (as the postgres user) that keeps running, archiving its
WAL with `pgbackrest archive-push`, with one full backup and rows written after it at two known times (for
point-in-time recovery). The repository and config are the postgres user's, as on a database host, so the
restored cluster's `archive-get` (run by PostgreSQL as postgres) reads them."""

from __future__ import annotations

import os
import pwd
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from opsverify.drills.local import find_server_bin, free_port, stop_cluster
from tests.backups.tools.stanza import STANZA, _as_postgres, conf


@dataclass
class LiveStanza:
    work: Path
    config: Path
    port: int
    middle: str  # between the rows written 'before' and 'after' (UTC, pgbackrest's --target form)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def sql(self, statement: str) -> object:
        with psycopg.connect(self.url, autocommit=True, connect_timeout=10) as conn:
            cursor = conn.execute(statement)  # type: ignore[arg-type]
            row = cursor.fetchone() if cursor.description else None
            return row[0] if row else None

    def switch_and_wait(self) -> None:
        """Close the current WAL segment and wait until the archiver handled it (archived or failed)."""
        segment = self.sql("select pg_walfile_name(pg_switch_wal())")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            done = self.sql(
                f"select last_archived_wal >= '{segment}' or last_failed_wal >= '{segment}' from pg_stat_archiver"
            )
            if done:
                return
            time.sleep(0.1)
        raise AssertionError(f"segment {segment} was not handled by the archiver within 60s")


def _run_as() -> dict[str, object]:
    if os.geteuid() != 0:
        return {}
    user = pwd.getpwnam("postgres")
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


@pytest.fixture(scope="module")
def live_stanza() -> Iterator[LiveStanza]:
    work = Path(tempfile.mkdtemp(prefix="opsverify-test-pgbr-live-"))
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(work, user.pw_uid, user.pw_gid)
    bindir, port, data = find_server_bin(None, "15"), free_port(), work / "data"
    config = work / "pgbackrest.conf"
    config.write_text(conf(work, work / "repo", data, port) + "pg1-user=postgres\narchive-timeout=10\n")
    pgbr = ["pgbackrest", f"--config={config}", f"--stanza={STANZA}"]
    _as_postgres(
        str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync", cwd=work
    )
    archive = f"pgbackrest --config={config} --stanza={STANZA} archive-push %p"
    with (data / "postgresql.conf").open("a") as settings:  # not -c: ALTER SYSTEM must be able to break it
        settings.write(f"archive_command = '{archive}'\n")
    options = (
        f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={work} -c archive_mode=on "
        "-c wal_level=replica -c fsync=off"
    )
    pg_ctl = [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(work / "server.log")]
    started = False
    try:
        _as_postgres(*pg_ctl, "-w", "-o", options, "start", cwd=work)
        started = True
        if os.geteuid() == 0:
            shutil.chown(config, "postgres", "postgres")
        _as_postgres(*pgbr, "stanza-create", cwd=work)
        _as_postgres(*pgbr, "--type=full", "backup", cwd=work)
        live = LiveStanza(work, config, port, "")
        live.sql(
            "create table events (id serial primary key, at timestamptz not null default now(), note text)"
        )
        live.sql("insert into events (note) select 'before' from generate_series(1, 3)")
        live.switch_and_wait()
        time.sleep(1.2)
        live.middle = str(live.sql("select to_char(now() at time zone 'utc', 'YYYY-MM-DD HH24:MI:SS+00')"))
        time.sleep(1.2)
        live.sql("insert into events (note) select 'after' from generate_series(1, 2)")
        live.switch_and_wait()
        yield live
    finally:
        if started:
            stop_cluster(data, bindir, None, _run_as())
        shutil.rmtree(work, ignore_errors=True)
    assert not work.exists()
