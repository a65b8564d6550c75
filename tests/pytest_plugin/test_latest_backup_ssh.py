"""`latest_backup`'s lookup (`newest_backup`) over SSH (`via:` a real OpenSSH server on loopback): the newest
file of the remote folder, streamed and downloaded over the connection (the copy removed at teardown)."""

from __future__ import annotations

import gzip
import os
import time
from contextlib import ExitStack
from pathlib import Path

import pytest

from opsverify.kinds.backups.model import BackupCheck
from opsverify.pytest_plugin.latest_backup import newest_backup
from tests.sshd import SshServer

DUMP = b"-- PostgreSQL database dump\nCREATE TABLE t (id int);\n\n-- PostgreSQL database dump complete\n\n"


def ssh_entry(server: SshServer, folder: Path) -> BackupCheck:
    via = {"url": server.url, "identity": server.user_key.read_text(), "known_hosts": str(server.known_hosts)}
    return BackupCheck.model_validate({"path": str(folder), "pattern": "db_*", "via": via, "settle": 0})


def test_newest_remote_file_streams_and_downloads(sshd: SshServer, tmp_path: Path) -> None:
    folder = tmp_path / "remote"
    folder.mkdir()
    body = gzip.compress(DUMP)
    for name, hours in (("db_1.sql.gz", 30), ("db_2.sql.gz", 2)):
        (folder / name).write_bytes(body)
        moment = time.time() - hours * 3600
        os.utime(folder / name, (moment, moment))
    with ExitStack() as stack:
        backup = newest_backup("db", ssh_entry(sshd, folder), tmp_path, stack)
        assert (backup.source, backup.name, backup.size) == ("ssh", "db_2.sql.gz", len(body))
        assert backup.format == "pg-plain-gz"
        assert 1.9 * 3600 < backup.age_seconds < 2.1 * 3600
        with backup.open() as stream:
            assert stream.read() == body
        local = backup.download()
        assert local.read_bytes() == body
        assert local.parent != folder  # a copy, not the remote file
    assert not local.exists()


def test_an_empty_remote_folder_fails_closed(sshd: SshServer, tmp_path: Path) -> None:
    folder = tmp_path / "remote"
    folder.mkdir()
    with ExitStack() as stack, pytest.raises(pytest.fail.Exception) as failed:
        newest_backup("db", ssh_entry(sshd, folder), tmp_path, stack)
    assert str(failed.value).startswith(f"backups:db: no backup in {folder}")
    assert "is the backup job running, and are `path` and `pattern` right?" in str(failed.value)
