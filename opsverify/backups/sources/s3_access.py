"""How opsverify reaches a bucket: `s3://bucket/prefix/`, the `s3:` settings, and the boto3 client built from them.

Without keys in the target, botocore's standard credential chain applies (environment, shared config and
profiles, container and instance metadata), with the metadata service given one short attempt so a run
off AWS does not hang on it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

AddressingStyle = Literal["auto", "virtual", "path"]
METADATA_TIMEOUT = 1.0  # seconds for the instance/container metadata service (one attempt)


@dataclass(frozen=True)
class S3Location:
    """A bucket and a key prefix (`''` or ending in `/`)."""

    bucket: str
    prefix: str

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"


def is_s3_url(path: str) -> bool:
    return path.lower().startswith("s3://")


def parse_s3_url(path: str) -> S3Location:
    """`s3://bucket/prefix/` -> S3Location; ValueError naming the fix when it is not one."""
    rest = path[len("s3://") :] if is_s3_url(path) else ""
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise ValueError(f"expected s3://BUCKET/PREFIX/ (e.g. s3://codebook-backups/weekly/), got {path!r}")
    if any(c in bucket for c in "*?[]") or any(c in prefix for c in "*?["):
        raise ValueError(
            f"{path!r}: `path` is the bucket and the key prefix, without wildcards; "
            "put the object-name glob in `pattern`"
        )
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return S3Location(bucket, prefix)


@dataclass(frozen=True)
class S3Access:
    """The `s3:` block: where the API answers and who asks. Keys absent: the AWS credential chain."""

    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    session_token: str | None = None
    addressing_style: AddressingStyle = "auto"
    timeout: float = 30.0
    retries: int = 2
    recursive: bool = False

    def describe(self, location: S3Location) -> str:
        """Where, for messages: the bucket URL and the endpoint or region (never a credential)."""
        if self.endpoint_url:
            return f"{location.url} at {self.endpoint_url}"
        return f"{location.url} (AWS{f', region {self.region}' if self.region else ''})"


@functools.lru_cache(maxsize=32)
def make_client(access: S3Access) -> S3Client:
    """A boto3 S3 client with timeouts on every call, and no checksum work botocore would do on its own.

    Response checksums are verified by opsverify against the hash it computes anyway (one read, not two).
    Kept per settings for the process (clients are thread-safe; building one loads botocore's models).
    """
    import boto3
    import botocore.session
    from botocore.config import Config

    core = botocore.session.Session(profile=access.profile)
    core.set_config_variable("metadata_service_timeout", METADATA_TIMEOUT)
    core.set_config_variable("metadata_service_num_attempts", 1)
    session = boto3.Session(botocore_session=core)
    config = Config(
        connect_timeout=min(access.timeout, 10.0),
        read_timeout=access.timeout,
        retries={"max_attempts": access.retries + 1, "mode": "standard"},
        s3={"addressing_style": access.addressing_style},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        user_agent_extra="opsverify",
    )
    return session.client(
        "s3",
        endpoint_url=access.endpoint_url or None,
        region_name=access.region or None,
        aws_access_key_id=access.access_key_id or None,
        aws_secret_access_key=access.secret_access_key or None,
        aws_session_token=access.session_token or None,
        config=config,
    )
