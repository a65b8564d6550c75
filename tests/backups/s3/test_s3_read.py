"""The newest object of a prefix, read once from a real S3 API (moto on loopback): formats and checksums."""

from __future__ import annotations

import gzip
import hashlib
import io
import sqlite3
from pathlib import Path

from tests.backups.pgdumps import Dumps
from tests.backups.s3.helpers import run_check, s3_entry
from tests.backups.s3.motoserver import MotoS3


def test_plain_gz_object_is_read_whole_and_hashed(moto_s3: MotoS3, dumps: Dumps) -> None:
    bucket, body = moto_s3.bucket(), dumps.plain_gz.read_bytes()
    moto_s3.put(bucket, "db/backup_1.sql.gz", body, age_hours=30)
    moto_s3.put(bucket, "db/backup_2.sql.gz", body, age_hours=2)
    moto_s3.put(bucket, "db/notes.txt", b"x")
    facts, problems = run_check(s3_entry(moto_s3.endpoint, bucket, pattern="backup_*.sql.gz", max_age="26h"))
    assert problems == []
    assert facts.newest is not None
    assert facts.newest.name == "backup_2.sql.gz"
    assert [f.name for f in facts.files] == ["backup_2.sql.gz", "backup_1.sql.gz"]
    assert facts.other_names == ["notes.txt"]
    inspection = facts.inspection
    assert inspection is not None
    assert inspection.format == "pg-plain-gz"
    assert inspection.trailer
    assert inspection.bytes_read == len(body)
    assert inspection.sha256 == hashlib.sha256(body).hexdigest()
    # single-part upload, no sidecar, no ChecksumSHA256: the ETag's MD5 is verified
    assert facts.checksum is not None
    assert facts.checksum.verified
    assert facts.checksum.algorithm == "md5"
    assert "s3://" in facts.phases()[0].name


def test_newest_object_older_than_max_age_fails(moto_s3: MotoS3, dumps: Dumps) -> None:
    bucket = moto_s3.bucket()
    moto_s3.put(bucket, "db/backup_1.sql.gz", dumps.plain_gz.read_bytes(), age_hours=27)
    _facts, problems = run_check(s3_entry(moto_s3.endpoint, bucket, max_age="26h"))
    assert len(problems) == 1
    assert problems[0].startswith(
        "newest backup backup_1.sql.gz: expected at most 26h old (max_age, the RPO gate), got 27h old"
    )


def test_truncated_gzip_object_is_a_defect(moto_s3: MotoS3, dumps: Dumps) -> None:
    bucket, body = moto_s3.bucket(), dumps.plain_gz.read_bytes()
    moto_s3.put(bucket, "db/backup_1.sql.gz", body[: len(body) // 2])
    _facts, problems = run_check(s3_entry(moto_s3.endpoint, bucket))
    assert any("gzip stream is truncated" in p for p in problems), problems


def test_corrupted_object_fails_its_gzip_check_and_its_etag(moto_s3: MotoS3, dumps: Dumps) -> None:
    bucket, body = moto_s3.bucket(), bytearray(dumps.plain_gz.read_bytes())
    body[len(body) // 2] ^= 0xFF
    moto_s3.put(bucket, "db/backup_1.sql.gz", bytes(body))
    _facts, problems = run_check(s3_entry(moto_s3.endpoint, bucket))
    assert any("gzip" in p and ("corrupt" in p or "mismatch" in p) for p in problems), problems


def test_sidecar_that_disagrees_fails(moto_s3: MotoS3, dumps: Dumps) -> None:
    bucket, body = moto_s3.bucket(), dumps.plain_gz.read_bytes()
    moto_s3.put(bucket, "db/backup_1.sql.gz", body)
    moto_s3.put(bucket, "db/backup_1.sql.gz.sha256", f"{'0' * 64}  backup_1.sql.gz\n".encode())
    _facts, problems = run_check(s3_entry(moto_s3.endpoint, bucket))
    assert len(problems) == 1
    assert problems[0].startswith(
        "backup_1.sql.gz: sha256 mismatch: backup_1.sql.gz.sha256 says 0000000000000000…"
    )


def test_sidecar_that_agrees_is_verified(moto_s3: MotoS3, dumps: Dumps) -> None:
    bucket, body = moto_s3.bucket(), dumps.plain_gz.read_bytes()
    moto_s3.put(bucket, "db/backup_1.sql.gz", body)
    moto_s3.put(
        bucket, "db/backup_1.sql.gz.sha256", f"{hashlib.sha256(body).hexdigest()}  backup_1.sql.gz\n".encode()
    )
    facts, problems = run_check(s3_entry(moto_s3.endpoint, bucket, checksum="required"))
    assert problems == []
    assert facts.checksum is not None
    assert facts.checksum.verified
    assert facts.checksum.algorithm == "sha256"
    assert [f.name for f in facts.files] == ["backup_1.sql.gz"]  # the sidecar is not a backup


def test_s3_checksum_sha256_is_verified(moto_s3: MotoS3, dumps: Dumps) -> None:
    bucket, body = moto_s3.bucket(), dumps.plain_gz.read_bytes()
    moto_s3.put(bucket, "db/backup_1.sql.gz", body, ChecksumAlgorithm="SHA256")
    facts, problems = run_check(s3_entry(moto_s3.endpoint, bucket, checksum="required"))
    assert problems == []
    assert facts.checksum is not None
    assert facts.checksum.sidecar is not None
    assert facts.checksum.sidecar.name == "ChecksumSHA256 (stored by S3)"


def test_checksum_off_reads_no_checksum(moto_s3: MotoS3, dumps: Dumps) -> None:
    bucket = moto_s3.bucket()
    moto_s3.put(bucket, "db/backup_1.sql.gz", dumps.plain_gz.read_bytes())
    moto_s3.put(bucket, "db/backup_1.sql.gz.sha256", f"{'0' * 64}\n".encode())
    facts, problems = run_check(s3_entry(moto_s3.endpoint, bucket, checksum="off"))
    assert problems == []
    assert facts.checksum is None


def test_checksum_required_fails_for_a_multipart_object_without_any(moto_s3: MotoS3) -> None:
    """A multipart upload's ETag is not an MD5 of the object: with no sidecar and no ChecksumSHA256, nothing
    can verify it, and `checksum: required` says so."""
    from boto3.s3.transfer import TransferConfig

    bucket, body = moto_s3.bucket(), gzip.compress(bytes(range(256)) * 4096 * 6, compresslevel=0)
    config = TransferConfig(multipart_threshold=5 << 20, multipart_chunksize=5 << 20)
    moto_s3.client().upload_fileobj(io.BytesIO(body), bucket, "db/files-1.gz", Config=config)
    facts, problems = run_check(s3_entry(moto_s3.endpoint, bucket, checksum="required"))
    assert facts.newest is not None
    assert "-" in getattr(facts.newest, "etag", "")
    assert len(problems) == 1
    assert "checksum: required, but there is no .sha256 sidecar" in problems[0]
    _facts, problems = run_check(s3_entry(moto_s3.endpoint, bucket))
    assert problems == []


def test_custom_dump_goes_through_a_temporary_file(moto_s3: MotoS3, dumps: Dumps) -> None:
    bucket, body = moto_s3.bucket(), dumps.custom.read_bytes()
    moto_s3.put(bucket, "db/backup_1.dump", body)
    facts, problems = run_check(s3_entry(moto_s3.endpoint, bucket))
    assert problems == []
    assert facts.inspection is not None
    assert facts.inspection.format == "pg-custom"
    assert facts.inspection.sha256 == hashlib.sha256(body).hexdigest()


def test_sqlite_object(moto_s3: MotoS3, tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as db:
        db.execute("create table t (x)")
        db.execute("insert into t values (1)")
    db.close()
    bucket = moto_s3.bucket()
    moto_s3.put(bucket, "db/app-1.db", path.read_bytes())
    facts, problems = run_check(s3_entry(moto_s3.endpoint, bucket))
    assert problems == []
    assert facts.inspection is not None
    assert facts.inspection.tables == ["t"]


def test_json_export_item_count(moto_s3: MotoS3) -> None:
    bucket = moto_s3.bucket()
    moto_s3.put(bucket, "pinecone/pinecone-backup-1.json", b'{"vectors": [1, 2, 3]}')
    entry = dict(pattern="pinecone-backup-*.json", items_path="vectors")
    _facts, problems = run_check(s3_entry(moto_s3.endpoint, bucket, "pinecone/", min_items=3, **entry))
    assert problems == []
    _facts, problems = run_check(s3_entry(moto_s3.endpoint, bucket, "pinecone/", min_items=4, **entry))
    assert problems == [
        "pinecone-backup-1.json: expected at least 4 items (min_items), got 3 items at vectors in the JSON document"
    ]


def test_gzip_of_unknown_content(moto_s3: MotoS3) -> None:
    bucket = moto_s3.bucket()
    moto_s3.put(bucket, "db/files.bin.gz", gzip.compress(b"data" * 1000))
    facts, problems = run_check(s3_entry(moto_s3.endpoint, bucket))
    assert problems == []
    assert facts.inspection is not None
    assert facts.inspection.inflated_bytes == 4000


def test_synced_uploads_are_checked_by_their_listing_only(moto_s3: MotoS3) -> None:
    """`aws s3 sync` of an uploads folder: a tree of arbitrary files; ages and counts, nothing read."""
    bucket = moto_s3.bucket()
    moto_s3.put(bucket, "uploads/2026/12/order-2.jpg", b"\xff\xd8\xff" + b"\0" * 100, age_hours=3)
    moto_s3.put(bucket, "uploads/order-1.jpg", b"\xff\xd8\xff" + b"\0" * 100, age_hours=50)
    keys = {"read_newest": False, "max_age": "26h", "retention": {"min_count": 2}}
    entry = s3_entry(moto_s3.endpoint, bucket, "uploads/", s3={"recursive": True}, **keys)
    facts, problems = run_check(entry)
    assert problems == []
    assert [f.name for f in facts.files] == ["order-2.jpg", "order-1.jpg"]
    assert facts.inspection is not None
    assert facts.inspection.bytes_read == 0
    _facts, problems = run_check(s3_entry(moto_s3.endpoint, bucket, "uploads/", **keys))
    assert len(problems) == 2  # one level only: order-1.jpg, 50h old, and one object where 2 are wanted
    assert problems[0].startswith(
        "newest backup order-1.jpg: expected at most 26h old (max_age, the RPO gate), got 2.1d old"
    )
    assert "expected at least 2 (retention.min_count), got 1" in problems[1]
