"""The restore drill of a MySQL dump in a bucket: a plain or gzipped mariadb-dump streams from the GET into
the `mariadb` client (the `stream` step, then one read that restores and checks it), with no local copy;
an object cut short, corrupted, disagreeing with its checksum or holding two databases fails the drill
clearly, and the drill database is dropped."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import pytest

from opsverify.kinds.restore.facts import DrillFacts
from tests.backups.mysqldumps import ROWS, MysqlDumps
from tests.backups.s3.motoserver import MotoS3
from tests.backups.s3.proxy import cutting_proxy
from tests.drills.helpers import evidence_lines
from tests.drills.test_mysql_drill import drill, drill_databases
from tests.drills.test_s3_drill import STREAMED_STEPS, s3_keys


def url_sandbox(mysql_url: str) -> dict[str, str]:
    return {"sandbox": "url", "sandbox_url": mysql_url, "rto": "1h"}


def assert_stopped_and_nothing_left(facts: DrillFacts, mysql_url: str, drill_tmp: Path) -> None:
    """The restore failed (with its reason), nothing was verified, the drill database and any temporary
    folder are gone."""
    __tracebackhide__ = True
    steps = {s.name: s.ok for s in facts.steps}
    assert steps["restore"] is False
    assert "verify" not in steps
    assert facts.restore is not None
    assert facts.restore.error is not None
    assert facts.database is not None
    assert facts.database not in drill_databases(mysql_url)
    assert list(drill_tmp.iterdir()) == []


@pytest.mark.parametrize("which", ["plain", "plain_gz"])
def test_drill_streams_a_mysql_dump_from_the_bucket_into_the_client(
    moto_s3: MotoS3,
    mysql_dumps: MysqlDumps,
    mysql_url: str,
    tmp_path: Path,
    reports: Path,
    drill_tmp: Path,
    which: str,
) -> None:
    dump: Path = getattr(mysql_dumps, which)
    bucket, body = moto_s3.bucket(), dump.read_bytes()
    key = f"db/backup_2_{dump.name}"
    moto_s3.put(bucket, f"db/backup_1_{dump.name}", body, age_hours=30)
    moto_s3.put(bucket, key, body, age_hours=2)
    if which == "plain":  # the .gz is checked by its ETag (the MD5 of a single-part upload)
        moto_s3.put(bucket, f"{key}.sha256", f"{hashlib.sha256(body).hexdigest()}\n".encode())
    facts, problems = drill(tmp_path, tmp_path, url_sandbox(mysql_url), **s3_keys(moto_s3, bucket))
    assert problems == [], facts.error
    assert [s.name for s in facts.steps] == STREAMED_STEPS
    stream = facts.steps[0]
    assert stream.detail.startswith(f"backup_2_{dump.name}, ")
    assert stream.detail.endswith(f"from s3://{bucket}/db/ at {moto_s3.endpoint}, streamed into the restore")
    assert facts.one_pass
    assert facts.restore is not None
    assert facts.restore.program in ("mariadb", "mysql")
    inflated = gzip.decompress(body) if which == "plain_gz" else body
    assert facts.restore.bytes_streamed <= len(inflated)  # the whole dump but its CREATE DATABASE/USE lines
    assert facts.restore.bytes_streamed > len(inflated) - 1000
    assert facts.backup is not None
    inspection = facts.backup.inspection
    assert inspection is not None
    assert inspection.sha256 == hashlib.sha256(body).hexdigest()  # hashed on the way
    assert inspection.trailer
    assert inspection.databases == [mysql_dumps.database]
    assert facts.backup.checksum is not None
    assert facts.backup.checksum.verified  # the sidecar / the ETag agreed with that read
    assert facts.verification.row_counts == {"customers": 100, "orders": ROWS}
    assert facts.database is not None
    assert facts.database not in drill_databases(mysql_url)  # dropped at teardown
    assert list(drill_tmp.iterdir()) == []  # no downloaded copy, no temporary folder
    (record,) = evidence_lines(reports)
    assert record["verdict"] == "passed"
    assert record["integrity_read"] == "with the restore"
    assert record["format"] == inspection.format
    assert record["file"] == f"s3://{bucket}/{key}"
    assert record["rto_s"] >= record["steps"]["stream"] + record["steps"]["restore"]  # both in the RTO


@pytest.mark.parametrize("which", ["plain", "plain_gz"])
def test_a_mysql_dump_cut_short_while_streaming_fails_and_leaves_nothing(
    moto_s3: MotoS3,
    mysql_dumps: MysqlDumps,
    mysql_url: str,
    tmp_path: Path,
    drill_tmp: Path,
    which: str,
) -> None:
    dump: Path = getattr(mysql_dumps, which)
    bucket = moto_s3.bucket()
    key = f"db/backup_cut_{dump.name}"
    moto_s3.put(bucket, key, dump.read_bytes())
    with cutting_proxy(moto_s3.endpoint) as proxy:
        facts, problems = drill(
            tmp_path, tmp_path, url_sandbox(mysql_url), **s3_keys(moto_s3, bucket, endpoint_url=proxy)
        )
    assert problems[0].startswith(f"s3://{bucket}/{key} was cut short while being read")
    assert "Content-Length" in problems[0]
    assert facts.steps[0].name == "stream"
    assert_stopped_and_nothing_left(facts, mysql_url, drill_tmp)
    assert facts.restore is not None
    assert facts.restore.error is not None
    assert "was cut short" in facts.restore.error  # the client was stopped before the end of its input


def test_a_corrupted_gzip_mysql_dump_stops_the_restore(
    moto_s3: MotoS3,
    mysql_dumps: MysqlDumps,
    mysql_url: str,
    tmp_path: Path,
    drill_tmp: Path,
) -> None:
    body = bytearray(mysql_dumps.plain_gz.read_bytes())
    body[len(body) // 2] ^= 0xFF
    bucket = moto_s3.bucket()
    moto_s3.put(bucket, "db/backup_1.sql.gz", bytes(body))
    facts, problems = drill(tmp_path, tmp_path, url_sandbox(mysql_url), **s3_keys(moto_s3, bucket))
    # zlib names the damage by where the flipped byte lands (a CRC mismatch, a bad block or distance), which
    # depends on the dump's bytes (they hold the dump's time): both wordings are the same failure
    assert problems[0].startswith("backup_1.sql.gz: gzip ")
    assert "the data is corrupt" in problems[0] or "gzip stream is corrupt near byte" in problems[0]
    assert_stopped_and_nothing_left(facts, mysql_url, drill_tmp)
    assert {s.name: s.ok for s in facts.steps}["integrity"] is False


def test_a_plain_mysql_dump_disagreeing_with_its_sidecar_fails_the_drill(
    moto_s3: MotoS3,
    mysql_dumps: MysqlDumps,
    mysql_url: str,
    tmp_path: Path,
    drill_tmp: Path,
) -> None:
    bucket = moto_s3.bucket()
    moto_s3.put(bucket, "db/backup_1.sql", mysql_dumps.plain.read_bytes())
    moto_s3.put(bucket, "db/backup_1.sql.sha256", f"{'0' * 64}\n".encode())
    facts, problems = drill(tmp_path, tmp_path, url_sandbox(mysql_url), **s3_keys(moto_s3, bucket))
    assert problems[0].startswith("backup_1.sql: sha256 mismatch: backup_1.sql.sha256 says 0000000000000000…")
    assert facts.restore is not None
    assert facts.restore.error is not None
    assert "restore stopped: the backup failed its integrity check: backup_1.sql: sha256 mismatch" in (
        facts.restore.error
    )
    assert_stopped_and_nothing_left(facts, mysql_url, drill_tmp)


def test_a_streamed_dump_of_two_databases_stops_at_the_second(
    moto_s3: MotoS3,
    mysql_dumps: MysqlDumps,
    mysql_url: str,
    tmp_path: Path,
    drill_tmp: Path,
) -> None:
    both = gzip.decompress(mysql_dumps.plain_gz.read_bytes()) + gzip.decompress(
        mysql_dumps.other_database.read_bytes()
    )
    bucket = moto_s3.bucket()
    moto_s3.put(bucket, "db/backup_1.sql.gz", gzip.compress(both))
    facts, problems = drill(tmp_path, tmp_path, url_sandbox(mysql_url), **s3_keys(moto_s3, bucket))
    assert len(problems) == 1, problems  # not what a read stopped midway would say of the dump
    assert "the dump holds 2 databases" in problems[0]
    assert "dump each database to its own file (mysqldump DB or --databases DB)" in problems[0]
    assert facts.restore is not None
    assert facts.restore.error is not None
    assert facts.restore.error.startswith("restore failed (restore stopped: the dump holds 2 databases")
    assert_stopped_and_nothing_left(facts, mysql_url, drill_tmp)
