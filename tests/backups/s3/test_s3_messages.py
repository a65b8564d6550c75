"""Messages of the S3 failures that moto cannot produce (a bucket in another region, an expired token), from
the error responses AWS sends for them, and the parsing of `path: s3://...`.

Why hand-built (moto 5.2): its S3 server serves a bucket to a request signed for any region (the region is
checked only by CreateBucket's LocationConstraint; HeadBucket just reports x-amz-bucket-region), so it never
answers PermanentRedirect, 301 or AuthorizationHeaderMalformed; and it never checks an STS session's
Expiration (an assumed role's credentials are valid for the server's lifetime), so it never answers
ExpiredToken. What it does check, a session token that is not the session's (InvalidToken), is tested
against the server in test_s3_failures.py."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from opsverify.backups.sources.s3_access import S3Access, S3Location, parse_s3_url
from opsverify.backups.sources.s3_errors import describe
from opsverify.kinds.backups.model import BackupCheck

WHERE = S3Location("codebook-backups", "weekly/")


def aws_error(code: str, status: int, **extra: str) -> ClientError:
    """The exception botocore raises for an AWS error response of this code and HTTP status."""
    response = {
        "Error": {"Code": code, "Message": "…", **extra},
        "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": {}},
    }
    return ClientError(response, "ListObjectsV2")  # type: ignore[arg-type]


def test_bucket_in_another_region_names_the_right_one() -> None:
    error = aws_error("PermanentRedirect", 301, Region="eu-west-1")
    assert describe(error, S3Access(region="us-east-1"), WHERE) == (
        "bucket codebook-backups is in another region than us-east-1 (PermanentRedirect): set s3.region: eu-west-1"
    )


def test_aws_endpoint_unreachable_is_named_once() -> None:
    """Without s3.endpoint_url (AWS), e.g. a machine with no route out: the endpoint is named once."""
    error = EndpointConnectionError(endpoint_url="https://codebook-backups.s3.amazonaws.com/")
    assert describe(error, S3Access(), WHERE).startswith("cannot connect to the AWS S3 endpoint (")
    local = S3Access(endpoint_url="http://127.0.0.1:9000")
    assert describe(error, local, WHERE).startswith(
        "cannot connect to the S3 endpoint http://127.0.0.1:9000 ("
    )


def test_authorization_header_malformed_is_a_region_problem_too() -> None:
    error = aws_error("AuthorizationHeaderMalformed", 400)
    assert describe(error, S3Access(), WHERE).endswith("set s3.region to the bucket's region")


def test_expired_session_token() -> None:
    assert describe(aws_error("ExpiredToken", 400), S3Access(), WHERE) == (
        "the S3 session token has expired (ExpiredToken): refresh s3.session_token or the profile's credentials"
    )


@pytest.mark.parametrize(
    ("path", "bucket", "prefix"),
    [
        ("s3://codebook-backups/weekly/", "codebook-backups", "weekly/"),
        ("s3://codebook-backups/weekly", "codebook-backups", "weekly/"),
        ("s3://codebook-backups", "codebook-backups", ""),
        ("S3://codebook-backups/", "codebook-backups", ""),
    ],
)
def test_s3_urls(path: str, bucket: str, prefix: str) -> None:
    assert parse_s3_url(path) == S3Location(bucket, prefix)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"path": "s3://"}, "expected s3://BUCKET/PREFIX/"),
        ({"path": "s3://bk/weekly/*.sql"}, "put the object-name glob in `pattern`"),
        ({"path": "/srv/backups", "s3": {"region": "eu-west-1"}}, "`s3` is for a bucket"),
        ({"path": "/srv/backups", "allow_archived": True}, "`allow_archived` is for a bucket"),
        (
            {"path": "s3://bk/", "s3": {"access_key_id": "${X}"}},
            "set both access_key_id and secret_access_key",
        ),
        ({"path": "s3://bk/", "s3": {"endpoint_url": "minio:9000"}}, "expected http://HOST:PORT"),
        ({"path": "s3://bk/", "via": "ssh://backup@db1"}, "drop `via`"),
        ({"path": "s3://bk/", "retention": {"max_gap": "0s"}}, "greater than 0"),
    ],
)
def test_bad_s3_entries_are_refused_with_the_fix(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=r".") as raised:
        BackupCheck.model_validate(fields)
    assert message in str(raised.value)
