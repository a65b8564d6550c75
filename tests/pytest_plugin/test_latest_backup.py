"""`latest_backup` and `sandbox_postgres` in a user's own checks, for a backups entry in a bucket (moto's
standalone S3 server over HTTP) and in a local folder: found through the entry's backup source, streamed or
downloaded (the download removed when the test ends), restored as the drill does; an entry with no backup
fails the test with the place and the fix (fail closed)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.backups.pgdumps import Dumps, admin_url, assert_no_drill_database_left, drill_databases, place
from tests.backups.s3.motoserver import KEY_ID, REGION, SECRET, MotoS3
from tests.conftest import RunResult

S3_ENV = {"CANARY_S3_KEY_ID": KEY_ID, "CANARY_S3_SECRET": SECRET}


def s3_target(server: MotoS3, bucket: str) -> str:
    return f"""target: prod
backups:
  db-s3:
    path: s3://{bucket}/db/
    pattern: "backup_*"
    max_age: 26h
    s3:
      endpoint_url: {server.endpoint}
      region: {REGION}
      access_key_id: ${{CANARY_S3_KEY_ID}}
      secret_access_key: ${{CANARY_S3_SECRET}}
      timeout: 5
      retries: 0
    restore:
      sandbox: url
      sandbox_url: {admin_url()}
      rto: 1h
      expect: {{tables: [bookings, clients]}}
"""


def local_target(folder: Path) -> str:
    return f"""target: prod
backups:
  db-local:
    path: {folder}
    pattern: "backup_*"
    settle: 0s
"""


S3_CHECKS = """
import hashlib
import os
from pathlib import Path

import pytest


def test_newest_object(latest_backup, tmp_path_factory):
    backup = latest_backup("db-s3")
    assert backup.source == "s3"
    assert backup.name == "backup_2.sql.gz"
    assert str(backup.path) == "db/backup_2.sql.gz"  # the object's key
    assert backup.format == "pg-plain-gz"
    assert backup.size == {size}
    assert 2 * 3600 - 60 < backup.age_seconds < 2 * 3600 + 600
    assert backup.place.startswith("s3://")
    with backup.open() as stream:
        assert hashlib.sha256(stream.read()).hexdigest() == "{sha}"
    local = backup.download()
    assert local.name == "backup_2.sql.gz"
    assert hashlib.sha256(local.read_bytes()).hexdigest() == "{sha}"
    assert backup.download() == local  # downloaded once
    Path(os.environ["DOWNLOAD_NOTE"]).write_text(str(local))


@pytest.mark.dr
def test_restored_from_the_bucket(sandbox_postgres):
    db = sandbox_postgres("db-s3")
    assert db.execute("select count(*) from bookings").fetchone()[0] == 3000
"""


def test_latest_backup_and_sandbox_from_a_bucket(
    run_checks: Callable[..., RunResult], moto_s3: MotoS3, dumps: Dumps, tmp_path: Path
) -> None:
    bucket, body = moto_s3.bucket(), dumps.plain_gz.read_bytes()
    moto_s3.put(bucket, "db/backup_1.sql.gz", body, age_hours=30)
    moto_s3.put(bucket, "db/backup_2.sql.gz", body, age_hours=2)
    moto_s3.put(bucket, "db/other.txt", b"not a backup", age_hours=1)
    checks = S3_CHECKS.replace("{size}", str(len(body))).replace("{sha}", hashlib.sha256(body).hexdigest())
    (tmp_path / "test_mine.py").write_text(checks)
    note = tmp_path / "downloaded.txt"
    before = drill_databases()
    result = run_checks(
        s3_target(moto_s3, bucket),
        "test_mine.py",
        "-k",
        "test_mine",
        env={**S3_ENV, "DOWNLOAD_NOTE": str(note)},
    )
    assert result.returncode == 0, result.output
    assert "2 passed" in result.output
    downloaded = Path(note.read_text())
    assert downloaded.name == "backup_2.sql.gz"
    assert not downloaded.exists()  # removed with its folder when the test ended
    assert not downloaded.parent.exists()
    assert_no_drill_database_left(before)
    assert SECRET not in result.output


EMPTY_CHECKS = """
import pytest


def test_latest(latest_backup):
    latest_backup("db-s3")


@pytest.mark.dr
def test_sandbox(sandbox_postgres):
    sandbox_postgres("db-s3")
"""


def test_an_empty_prefix_fails_both_fixtures_closed(
    run_checks: Callable[..., RunResult], moto_s3: MotoS3, tmp_path: Path
) -> None:
    bucket = moto_s3.bucket()
    (tmp_path / "test_mine.py").write_text(EMPTY_CHECKS)
    result = run_checks(s3_target(moto_s3, bucket), "test_mine.py", "-k", "test_mine", env=S3_ENV)
    assert result.returncode == 1, result.output
    assert "2 failed" in result.output
    empty = (
        f"no backup in s3://{bucket}/db/ at {moto_s3.endpoint} matches backup_* (the prefix holds no objects): "
        "is the backup job running, and are `path` and `pattern` right?"
    )
    assert f"backups:db-s3: {empty}" in result.output
    assert f"restore of backups:db-s3 failed: {empty}" in result.output
    assert "Traceback" not in result.output
    assert SECRET not in result.output


LOCAL_CHECKS = """
import hashlib


def test_newest_file(latest_backup):
    backup = latest_backup("db-local")
    assert backup.source == "local"
    assert backup.name == "backup_2.sql.gz"
    assert backup.format == "pg-plain-gz"
    assert 3000 < backup.age_seconds < 4000
    with backup.open() as stream:
        assert hashlib.sha256(stream.read()).hexdigest() == "{sha}"
    assert backup.download() == backup.path  # a file here is its own copy


def test_no_backup(latest_backup):
    latest_backup("db-local")
"""


@pytest.mark.parametrize("empty", [False, True], ids=["backups", "empty"])
def test_latest_backup_of_a_local_folder(
    run_checks: Callable[..., RunResult], dumps: Dumps, tmp_path: Path, empty: bool
) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    if not empty:
        place(dumps.plain_gz, folder, "backup_1.sql.gz", age_hours=30)
        place(dumps.plain_gz, folder, "backup_2.sql.gz", age_hours=1)
    sha = hashlib.sha256(dumps.plain_gz.read_bytes()).hexdigest()
    (tmp_path / "test_mine.py").write_text(LOCAL_CHECKS.replace("{sha}", sha))
    test = "test_no_backup" if empty else "test_newest_file"
    result = run_checks(local_target(folder), "test_mine.py", "-k", test)
    if empty:
        assert result.returncode == 1, result.output
        assert (
            f"backups:db-local: no backup in {folder} matches backup_* (the folder is empty): "
            "is the backup job running, and are `path` and `pattern` right?"
        ) in result.output
    else:
        assert result.returncode == 0, result.output
        assert list(folder.iterdir()) != []  # nothing of the backups touched
