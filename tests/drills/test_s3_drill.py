"""The restore drill of a backup in a bucket: a plain dump (.sql, .sql.gz) streams from the GET into psql
(the `stream` step, then one read that restores and checks it); other formats are downloaded first (the
`download` step). Both inside the RTO; nothing is left behind."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from tests.backups.pgdumps import Dumps, drill_databases
from tests.backups.s3.motoserver import KEY_ID, REGION, SECRET, MotoS3
from tests.backups.s3.proxy import cutting_proxy
from tests.drills.helpers import GOOD_EXPECT, evidence_lines, run_drill


def s3_keys(server: MotoS3, bucket: str, **s3: Any) -> dict[str, Any]:
    settings = {
        "endpoint_url": server.endpoint,
        "region": REGION,
        "access_key_id": KEY_ID,
        "secret_access_key": SECRET,
        "timeout": 5,
        "retries": 0,
        **s3,
    }
    return {"path": f"s3://{bucket}/db/", "pattern": "backup_*", "s3": settings}


STREAMED_STEPS = ["stream", "sandbox", "restore", "integrity", "verify", "teardown"]


@pytest.mark.parametrize("name", ["plain", "plain_gz"])
def test_drill_streams_a_plain_dump_from_the_bucket_into_psql(
    moto_s3: MotoS3, dumps: Dumps, tmp_path: Path, reports: Path, drill_tmp: Path, name: str
) -> None:
    dump: Path = getattr(dumps, name)
    bucket, body = moto_s3.bucket(), dump.read_bytes()
    key = f"db/backup_2{dump.name.removeprefix('backup_20260101_020000')}"
    moto_s3.put(bucket, key.replace("_2", "_1"), body, age_hours=30)
    moto_s3.put(bucket, key, body, age_hours=2)
    moto_s3.put(bucket, f"{key}.sha256", f"{hashlib.sha256(body).hexdigest()}\n".encode())
    facts, problems = run_drill(
        tmp_path, tmp_path, {"rto": "1h", "expect": GOOD_EXPECT}, **s3_keys(moto_s3, bucket)
    )
    assert problems == []
    assert [s.name for s in facts.steps] == STREAMED_STEPS
    stream = facts.steps[0]
    assert stream.detail.startswith(f"{key.removeprefix('db/')}, ")
    assert stream.detail.endswith(f"from s3://{bucket}/db/ at {moto_s3.endpoint}, streamed into the restore")
    assert facts.one_pass  # checked in the read that restored it
    assert facts.restore is not None
    assert facts.restore.bytes_streamed == dumps.plain.stat().st_size  # psql got the whole (inflated) dump
    assert facts.backup is not None
    assert facts.backup.inspection is not None
    assert facts.backup.inspection.sha256 == hashlib.sha256(body).hexdigest()  # hashed on the way
    assert facts.backup.checksum is not None
    assert facts.backup.checksum.verified  # the sidecar object agreed with that read
    assert facts.verification.row_counts == {"clients": 400, "bookings": 3000, "public.invoices": 2000}
    assert facts.database is not None
    assert facts.database not in drill_databases()  # dropped at teardown
    assert list(drill_tmp.iterdir()) == []  # no downloaded copy, no temporary folder
    (record,) = evidence_lines(reports)
    assert record["verdict"] == "passed"
    assert record["integrity_read"] == "with the restore"
    assert record["file"] == f"s3://{bucket}/{key}"  # the object, not a local path
    assert record["rto_s"] >= record["steps"]["stream"] + record["steps"]["restore"]  # both in the RTO


def test_drill_downloads_a_custom_archive_first(
    moto_s3: MotoS3, dumps: Dumps, tmp_path: Path, reports: Path, drill_tmp: Path
) -> None:
    bucket, body = moto_s3.bucket(), dumps.custom.read_bytes()
    moto_s3.put(bucket, "db/backup_2.dump", body, age_hours=2)
    moto_s3.put(bucket, "db/backup_2.dump.sha256", f"{hashlib.sha256(body).hexdigest()}\n".encode())
    facts, problems = run_drill(
        tmp_path, tmp_path, {"rto": "1h", "expect": GOOD_EXPECT}, **s3_keys(moto_s3, bucket)
    )
    assert problems == []
    assert [s.name for s in facts.steps] == [
        "download",
        "find",
        "integrity",
        "sandbox",
        "restore",
        "verify",
        "teardown",
    ]
    download = facts.steps[0]
    assert download.detail.startswith("backup_2.dump, ")
    assert f"from s3://{bucket}/db/ at {moto_s3.endpoint}" in download.detail
    assert facts.backup is not None
    assert facts.backup.checksum is not None
    assert facts.backup.checksum.verified  # the sidecar object was downloaded beside the copy and checked
    assert facts.verification.row_counts == {"clients": 400, "bookings": 3000, "public.invoices": 2000}
    (record,) = evidence_lines(reports)
    assert record["verdict"] == "passed"
    assert record["rto_s"] >= record["steps"]["download"]  # the download counts in the RTO
    assert record["file"] == f"s3://{bucket}/db/backup_2.dump"  # the object, not the removed copy
    assert list(drill_tmp.iterdir()) == []


def test_streamed_drill_with_a_bad_sidecar_stops_the_restore_uncommitted(
    moto_s3: MotoS3, dumps: Dumps, tmp_path: Path, drill_tmp: Path
) -> None:
    bucket = moto_s3.bucket()
    moto_s3.put(bucket, "db/backup_1.sql.gz", dumps.plain_gz.read_bytes())
    moto_s3.put(bucket, "db/backup_1.sql.gz.sha256", f"{'0' * 64}\n".encode())
    facts, problems = run_drill(tmp_path, tmp_path, {}, **s3_keys(moto_s3, bucket))
    assert problems[0].startswith(
        "backup_1.sql.gz: sha256 mismatch: backup_1.sql.gz.sha256 says 0000000000000000…"
    )
    steps = {s.name: s.ok for s in facts.steps}
    assert steps["restore"] is False
    assert steps["integrity"] is False
    assert "verify" not in steps
    assert facts.restore is not None
    assert facts.restore.error is not None
    assert "(restore stopped: the backup failed its integrity check: backup_1.sql.gz: sha256 mismatch" in (
        facts.restore.error
    )
    assert facts.database is not None
    assert facts.database not in drill_databases()
    assert list(drill_tmp.iterdir()) == []


@pytest.mark.parametrize("name", ["plain", "plain_gz"])
def test_streamed_drill_of_an_object_cut_short_fails_clearly_and_commits_nothing(
    moto_s3: MotoS3, dumps: Dumps, tmp_path: Path, drill_tmp: Path, name: str
) -> None:
    dump: Path = getattr(dumps, name)
    bucket = moto_s3.bucket()
    key = f"db/backup_cut{dump.name.removeprefix('backup_20260101_020000')}"
    moto_s3.put(bucket, key, dump.read_bytes())
    with cutting_proxy(moto_s3.endpoint) as proxy:
        facts, problems = run_drill(tmp_path, tmp_path, {}, **s3_keys(moto_s3, bucket, endpoint_url=proxy))
    # first, before what follows from it (no trailer, a truncated gzip stream)
    assert problems[0].startswith(f"s3://{bucket}/{key} was cut short while being read")
    assert "Content-Length" in problems[0]
    assert "run the check again, and if it repeats, the stored object is damaged" in problems[0]
    steps = {s.name: s.ok for s in facts.steps}
    assert facts.steps[0].name == "stream"  # streamed, not downloaded
    assert steps["restore"] is False
    assert "verify" not in steps
    assert facts.restore is not None
    assert facts.restore.error is not None
    assert "was cut short" in facts.restore.error  # psql was stopped before it saw the end of its input
    assert facts.database is not None
    assert facts.database not in drill_databases()
    assert list(drill_tmp.iterdir()) == []


def test_drill_from_an_empty_prefix_fails_closed(moto_s3: MotoS3, tmp_path: Path) -> None:
    bucket = moto_s3.bucket()
    facts, problems = run_drill(tmp_path, tmp_path, {}, **s3_keys(moto_s3, bucket))
    assert problems == [
        f"no backup in s3://{bucket}/db/ at {moto_s3.endpoint} matches backup_* (the prefix holds no objects): "
        "is the backup job running, and are `path` and `pattern` right?"
    ]
    assert facts.steps[0].name == "download"
    assert not facts.steps[0].ok


def test_drill_of_an_archived_object_says_so(moto_s3: MotoS3, dumps: Dumps, tmp_path: Path) -> None:
    bucket = moto_s3.bucket()
    moto_s3.put(bucket, "db/backup_1.sql.gz", dumps.plain_gz.read_bytes(), StorageClass="GLACIER")
    _facts, problems = run_drill(tmp_path, tmp_path, {}, **s3_keys(moto_s3, bucket))
    assert len(problems) == 1
    assert "is in storage class GLACIER: it cannot be read without a restore request" in problems[0]


def test_drill_downloads_a_synced_pg_directory_and_removes_the_copy(
    moto_s3: MotoS3, dumps: Dumps, tmp_path: Path, reports: Path, drill_tmp: Path
) -> None:
    bucket = moto_s3.bucket()
    for path in sorted(dumps.directory.iterdir()):  # aws s3 sync DIR s3://bucket/db/db_2/
        moto_s3.put(bucket, f"db/db_2/{path.name}", path.read_bytes(), age_hours=2)
    keys = {**s3_keys(moto_s3, bucket), "pattern": "db_*", "format": "pg-directory"}
    facts, problems = run_drill(tmp_path, tmp_path, {"rto": "1h", "expect": GOOD_EXPECT}, **keys)
    assert problems == []
    assert [s.name for s in facts.steps] == [
        "download",
        "find",
        "integrity",
        "sandbox",
        "restore",
        "verify",
        "teardown",
    ]
    assert facts.steps[0].detail.startswith("db_2, ")
    assert facts.restore is not None
    assert facts.restore.program == "pg_restore"
    assert facts.verification.row_counts == {"clients": 400, "bookings": 3000, "public.invoices": 2000}
    (record,) = evidence_lines(reports)
    assert record["verdict"] == "passed"
    assert record["format"] == "pg-directory"
    assert record["file"] == f"s3://{bucket}/db/db_2/"
    assert record["rto_s"] >= record["steps"]["download"]
    assert list(drill_tmp.iterdir()) == []  # the downloaded folder is gone
