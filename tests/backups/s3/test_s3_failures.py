"""Every way a bucket fails, each a clear message with its fix (never a traceback, never a hang)."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from opsverify.backups.sources.s3 import S3Source
from tests.backups.pgdumps import Dumps
from tests.backups.s3.helpers import run_check, s3_entry
from tests.backups.s3.motoserver import REGION, AuthS3, MotoS3
from tests.backups.s3.proxy import cutting_proxy
from tests.conftest import refused_port


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield int(listener.getsockname()[1])


def test_refused_endpoint(moto_s3: MotoS3) -> None:
    port = refused_port()
    facts, problems = run_check(s3_entry(f"http://127.0.0.1:{port}", "bucket-x"))
    assert problems == [
        f"cannot connect to the S3 endpoint http://127.0.0.1:{port} (connection refused): is s3.endpoint_url "
        "right and the server up?"
    ]
    assert facts.newest is None


def test_silent_endpoint_times_out(silent_port: int) -> None:
    entry = s3_entry(f"http://127.0.0.1:{silent_port}", "bucket-x", s3={"timeout": 1})
    _facts, problems = run_check(entry)
    assert problems == [
        f"the S3 endpoint http://127.0.0.1:{silent_port} accepted the connection but did not answer within 1s "
        "(s3.timeout) while reading s3://bucket-x/db/ at http://127.0.0.1:"
        f"{silent_port}: is it an S3 server, and is it overloaded?"
    ]


def test_missing_bucket(moto_s3: MotoS3) -> None:
    _facts, problems = run_check(s3_entry(moto_s3.endpoint, "no-such-bucket-opsverify"))
    assert problems == [
        f"bucket no-such-bucket-opsverify does not exist at {moto_s3.endpoint}: is `path` right (and "
        "s3.endpoint_url, for a non-AWS store)?"
    ]


def test_empty_prefix_fails_closed(moto_s3: MotoS3) -> None:
    bucket = moto_s3.bucket()
    moto_s3.put(bucket, "other/backup_1.sql.gz", b"x")
    _facts, problems = run_check(s3_entry(moto_s3.endpoint, bucket, pattern="backup_*.sql.gz"))
    assert problems == [
        f"no backup in s3://{bucket}/db/ at {moto_s3.endpoint} matches backup_*.sql.gz (the prefix holds no "
        "objects): is the backup job running, and are `path` and `pattern` right?"
    ]


def test_2500_objects_under_one_prefix_are_all_listed(moto_s3: MotoS3) -> None:
    bucket = moto_s3.bucket()
    # object 2499 is the newest
    moto_s3.put_many(bucket, ((f"db/b-{number:04d}.json", b"[1]", 2500 - number) for number in range(2500)))
    with S3Source(s3_entry(moto_s3.endpoint, bucket), Path(".")) as source:
        listing = source.list("*", [])
    assert getattr(listing, "pages", None) == 3
    assert len(listing.complete) == 2500
    assert listing.complete[0].name == "b-2499.json"
    assert listing.complete[-1].name == "b-0000.json"
    _facts, problems = run_check(s3_entry(moto_s3.endpoint, bucket, retention={"min_count": 2500}))
    assert problems == []
    _facts, problems = run_check(s3_entry(moto_s3.endpoint, bucket, retention={"min_count": 2501}))
    assert len(problems) == 1
    assert "expected at least 2501 (retention.min_count), got 2500" in problems[0]


def test_archived_newest_is_said_plainly(moto_s3: MotoS3, dumps: Dumps) -> None:
    bucket = moto_s3.bucket()
    moto_s3.put(bucket, "db/backup_1.sql.gz", dumps.plain_gz.read_bytes(), StorageClass="DEEP_ARCHIVE")
    _facts, problems = run_check(s3_entry(moto_s3.endpoint, bucket))
    assert problems == [
        f"backup_1.sql.gz: s3://{bucket}/db/backup_1.sql.gz is in storage class DEEP_ARCHIVE: it cannot be read "
        "without a restore request (aws s3api restore-object), so its contents were not checked; keep recent "
        "backups in a readable class (transition later in the lifecycle rule), or set allow_archived: true to "
        "check only the listing"
    ]
    facts, problems = run_check(s3_entry(moto_s3.endpoint, bucket, allow_archived=True, max_age="26h"))
    assert problems == []
    assert facts.inspection is not None
    assert facts.inspection.format == "not read: in storage class DEEP_ARCHIVE (allow_archived)"
    assert facts.inspection.bytes_read == 0


def test_glacier_instant_retrieval_is_read(moto_s3: MotoS3, dumps: Dumps) -> None:
    bucket = moto_s3.bucket()
    moto_s3.put(bucket, "db/backup_1.sql.gz", dumps.plain_gz.read_bytes(), StorageClass="GLACIER_IR")
    facts, problems = run_check(s3_entry(moto_s3.endpoint, bucket))
    assert problems == []
    assert facts.inspection is not None


def read_after(moto_s3: MotoS3, bucket: str, meanwhile: Callable[[], object]) -> str | None:
    """List the prefix, do `meanwhile`, then read the newest object: what `changed` says."""
    with S3Source(s3_entry(moto_s3.endpoint, bucket), Path(".")) as source:
        newest = source.list("*", []).complete[0]
        meanwhile()
        source.inspect(newest)
        return source.changed(newest)


def test_object_deleted_between_list_and_read(moto_s3: MotoS3, dumps: Dumps) -> None:
    bucket = moto_s3.bucket()
    moto_s3.put(bucket, "db/backup_1.sql.gz", dumps.plain_gz.read_bytes())
    changed = read_after(
        moto_s3, bucket, lambda: moto_s3.client().delete_object(Bucket=bucket, Key="db/backup_1.sql.gz")
    )
    assert changed == (
        f"s3://{bucket}/db/backup_1.sql.gz was deleted between listing and reading (a lifecycle rule or the "
        "backup job's pruning ran meanwhile); run the check again"
    )


def test_object_replaced_between_list_and_read(moto_s3: MotoS3, dumps: Dumps) -> None:
    bucket = moto_s3.bucket()
    moto_s3.put(bucket, "db/backup_1.sql.gz", dumps.plain_gz.read_bytes())
    changed = read_after(moto_s3, bucket, lambda: moto_s3.put(bucket, "db/backup_1.sql.gz", b"another"))
    assert changed is not None
    assert "was replaced between listing and reading" in changed


def test_object_cut_short_of_its_content_length(moto_s3: MotoS3, dumps: Dumps) -> None:
    bucket = moto_s3.bucket()
    moto_s3.put(bucket, "db/backup_cut.sql.gz", dumps.plain_gz.read_bytes())
    with cutting_proxy(moto_s3.endpoint) as proxy:
        _facts, problems = run_check(s3_entry(proxy, bucket))
    assert len(problems) == 1
    assert problems[0].startswith(f"s3://{bucket}/db/backup_cut.sql.gz was cut short")
    assert "Content-Length" in problems[0]


def test_unknown_access_key(moto_s3_auth: AuthS3) -> None:
    auth = moto_s3_auth
    entry = s3_entry(
        auth.server.endpoint, auth.bucket, s3={"access_key_id": "AKIANOTAKEY", "secret_access_key": "x"}
    )
    _facts, problems = run_check(entry)
    assert problems == [
        f"the S3 credentials were refused by {auth.server.endpoint} (InvalidAccessKeyId): check s3.access_key_id / "
        "s3.secret_access_key (or the profile / AWS_* variables); a key pair may have been rotated"
    ]


def test_wrong_secret(moto_s3_auth: AuthS3) -> None:
    auth = moto_s3_auth
    entry = s3_entry(
        auth.server.endpoint, auth.bucket, s3={"access_key_id": auth.reader[0], "secret_access_key": "wrong"}
    )
    _facts, problems = run_check(entry)
    assert len(problems) == 1
    assert "(SignatureDoesNotMatch)" in problems[0]


def test_listing_allowed_but_reading_denied(moto_s3_auth: AuthS3) -> None:
    auth = moto_s3_auth
    key_id, secret = auth.list_only
    entry = s3_entry(
        auth.server.endpoint, auth.bucket, s3={"access_key_id": key_id, "secret_access_key": secret}
    )
    facts, problems = run_check(entry)
    assert facts.newest is not None
    assert problems == [
        f"access denied to s3://{auth.bucket}/db/backup_1.sql.gz (AccessDenied): the credentials "
        f"need s3:ListBucket on arn:aws:s3:::{auth.bucket} (prefix db/) and s3:GetObject on "
        f"arn:aws:s3:::{auth.bucket}/db/* (see docs/backups.md, 'Backups in object storage')"
    ]


def test_least_privilege_policy_is_enough(moto_s3_auth: AuthS3) -> None:
    auth = moto_s3_auth
    key_id, secret = auth.reader
    entry = s3_entry(
        auth.server.endpoint, auth.bucket, s3={"access_key_id": key_id, "secret_access_key": secret}
    )
    facts, problems = run_check(entry)
    assert facts.inspection is not None
    assert facts.inspection.bytes_read > 0  # read: the only problem is the test object's missing trailer
    assert all("access denied" not in p for p in problems), problems


def test_an_sts_session_reads_with_its_token(moto_s3_auth: AuthS3) -> None:
    """Temporary credentials (an assumed role's): the session token goes with every request."""
    auth = moto_s3_auth
    key_id, secret, token = auth.session
    s3 = {"access_key_id": key_id, "secret_access_key": secret, "session_token": token}
    facts, problems = run_check(s3_entry(auth.server.endpoint, auth.bucket, s3=s3))
    assert facts.inspection is not None
    assert facts.inspection.bytes_read > 0
    assert all("refused" not in p and "denied" not in p for p in problems), problems


def test_a_session_token_that_is_not_the_sessions_is_refused(moto_s3_auth: AuthS3) -> None:
    """The server refuses a token that is not the session's (moto answers InvalidToken for real; an expired
    token's ExpiredToken it never sends, see test_s3_messages.py)."""
    auth = moto_s3_auth
    key_id, secret, token = auth.session
    s3 = {"access_key_id": key_id, "secret_access_key": secret, "session_token": token[:-8] + "AAAAAAAA"}
    facts, problems = run_check(s3_entry(auth.server.endpoint, auth.bucket, s3=s3))
    assert problems == [
        f"the S3 session token was refused by {auth.server.endpoint} (InvalidToken): it is not the one issued "
        "with s3.access_key_id (cut, or from another session); set s3.session_token (or the profile's "
        "credentials) from the same, current session"
    ]
    assert facts.newest is None
    assert token[:-8] not in problems[0]


def test_no_credentials_anywhere(moto_s3: MotoS3, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # tests talk only to 127.0.0.1
    entry = s3_entry(moto_s3.endpoint, "bucket-x", s3={"access_key_id": None, "secret_access_key": None})
    _facts, problems = run_check(entry)
    assert len(problems) == 1
    assert problems[0].startswith(f"no AWS credentials for s3://bucket-x/db/ at {moto_s3.endpoint}: set")


def test_unknown_profile(moto_s3: MotoS3, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    entry = s3_entry(
        moto_s3.endpoint,
        "bucket-x",
        s3={"access_key_id": None, "secret_access_key": None, "profile": "backup-ro"},
    )
    _facts, problems = run_check(entry)
    assert problems == [
        "AWS profile 'backup-ro' is not in the shared config (~/.aws/config, ~/.aws/credentials): fix s3.profile "
        "or add the profile"
    ]


def test_profile_from_shared_config(moto_s3: MotoS3, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The credential chain: a named profile of the shared files supplies the keys."""
    (tmp_path / "credentials").write_text("[backup-ro]\naws_access_key_id = k\naws_secret_access_key = s\n")
    (tmp_path / "config").write_text(f"[profile backup-ro]\nregion = {REGION}\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    bucket = moto_s3.bucket()
    moto_s3.put(bucket, "db/x.json", b"[1, 2]")
    entry = s3_entry(
        moto_s3.endpoint,
        bucket,
        s3={"access_key_id": None, "secret_access_key": None, "profile": "backup-ro"},
    )
    _facts, problems = run_check(entry)
    assert problems == []
