"""The restore drill of a backup in a bucket: the newest object is downloaded (its own timed step, inside
the RTO), then restored and verified exactly as a file is."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from tests.backups.pgdumps import Dumps, drill_databases
from tests.backups.s3.motoserver import KEY_ID, REGION, SECRET, MotoS3
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


def test_drill_from_a_bucket(moto_s3: MotoS3, dumps: Dumps, tmp_path: Path, reports: Path) -> None:
    bucket, body = moto_s3.bucket(), dumps.plain_gz.read_bytes()
    moto_s3.put(bucket, "db/backup_1.sql.gz", body, age_hours=30)
    moto_s3.put(bucket, "db/backup_2.sql.gz", body, age_hours=2)
    moto_s3.put(bucket, "db/backup_2.sql.gz.sha256", f"{hashlib.sha256(body).hexdigest()}\n".encode())
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
    assert download.detail.startswith("backup_2.sql.gz, ")
    assert f"from s3://{bucket}/db/ at {moto_s3.endpoint}" in download.detail
    assert facts.backup is not None
    assert facts.backup.checksum is not None
    assert facts.backup.checksum.verified  # the sidecar object was downloaded beside the copy and checked
    assert facts.verification.row_counts == {"clients": 400, "bookings": 3000, "public.invoices": 2000}
    assert facts.database is not None
    assert facts.database not in drill_databases()  # dropped at teardown
    (record,) = evidence_lines(reports)
    assert record["verdict"] == "passed"
    assert "download" in record["steps"]
    assert record["rto_s"] >= record["steps"]["download"]  # the download counts in the RTO
    assert not Path(str(record["file"])).exists()  # the downloaded copy was removed at teardown


def test_drill_from_a_bucket_with_a_bad_sidecar_does_not_restore(
    moto_s3: MotoS3, dumps: Dumps, tmp_path: Path
) -> None:
    bucket = moto_s3.bucket()
    moto_s3.put(bucket, "db/backup_1.sql.gz", dumps.plain_gz.read_bytes())
    moto_s3.put(bucket, "db/backup_1.sql.gz.sha256", f"{'0' * 64}\n".encode())
    facts, problems = run_drill(tmp_path, tmp_path, {}, **s3_keys(moto_s3, bucket))
    assert len(problems) == 1
    assert problems[0].startswith(
        "backup_1.sql.gz: sha256 mismatch: backup_1.sql.gz.sha256 says 0000000000000000…"
    )
    assert "restore" not in [s.name for s in facts.steps]


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
