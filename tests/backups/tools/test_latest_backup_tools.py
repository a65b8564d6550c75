"""The `latest_backup` fixture's lookup (`newest_backup`) over restic and Borg repositories: the newest
dump in the newest snapshot or archive, streamed and downloaded through the source (the download removed
with the test's ExitStack), and an empty repository failing closed."""

from __future__ import annotations

import hashlib
from contextlib import ExitStack
from pathlib import Path

import pytest

from opsverify.pytest_plugin.latest_backup import newest_backup
from tests.backups.pgdumps import Dumps
from tests.backups.tools import test_borg, test_restic
from tests.backups.tools.repos import BorgRepo, ResticRepo


def test_restic_newest_dump_streams_and_downloads(
    restic_repo: ResticRepo, dumps: Dumps, private_tmp: Path
) -> None:
    body = dumps.plain_gz.read_bytes()
    restic_repo.backup({"backup_1.sql.gz": body}, test_restic.ago(30))
    restic_repo.backup({"backup_2.sql.gz": body}, test_restic.ago(2))
    with ExitStack() as stack:
        backup = newest_backup("db", test_restic.entry(restic_repo), Path("."), stack)
        assert backup.source == "restic"
        assert backup.name == "backup_2.sql.gz"
        assert backup.format == "pg-plain-gz"
        assert 1.9 * 3600 < backup.age_seconds < 2.1 * 3600
        with backup.open() as stream:
            assert hashlib.sha256(stream.read()).digest() == hashlib.sha256(body).digest()
        local = backup.download()
        assert local.read_bytes() == body
    assert not local.exists()


def test_borg_newest_dump_downloads(borg_repo: BorgRepo, dumps: Dumps, private_tmp: Path) -> None:
    body = dumps.plain_gz.read_bytes()
    borg_repo.create("db-1", {"backup_1.sql.gz": body}, test_borg.ago(30))
    borg_repo.create("db-2", {"backup_2.sql.gz": body}, test_borg.ago(2))
    with ExitStack() as stack:
        backup = newest_backup("db", test_borg.entry(borg_repo), Path("."), stack)
        assert backup.source == "borg"
        assert backup.name == "backup_2.sql.gz"
        assert backup.format == "pg-plain-gz"
        local = backup.download()
        assert local.read_bytes() == body
    assert not local.exists()


def test_an_empty_restic_repository_fails_closed(restic_repo: ResticRepo, private_tmp: Path) -> None:
    with ExitStack() as stack, pytest.raises(pytest.fail.Exception) as failed:
        newest_backup("db", test_restic.entry(restic_repo), Path("."), stack)
    assert str(failed.value).startswith("backups:db: no backup in restic repository ")
