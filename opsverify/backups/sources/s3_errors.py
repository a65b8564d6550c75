"""What went wrong talking to a bucket, in an operator's words, each with the fix (never a traceback)."""

from __future__ import annotations

from opsverify.backups.sources.base import SourceError
from opsverify.backups.sources.s3_access import S3Access, S3Location


class S3Error(SourceError):
    """A failure reaching or reading the bucket; the message names the bucket, the key and the fix."""


_REGION_CODES = ("PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException")
_CREDENTIAL_CODES = ("InvalidAccessKeyId", "SignatureDoesNotMatch", "TokenRefreshRequired")


def describe(exc: Exception, access: S3Access, location: S3Location, key: str | None = None) -> str:
    """One line for `exc` raised by boto3 while listing `location` or reading `key`."""
    from botocore import exceptions as errors

    where = access.describe(location)
    endpoint = f"the S3 endpoint {access.endpoint_url}" if access.endpoint_url else "the AWS S3 endpoint"
    obj = f"s3://{location.bucket}/{key}" if key else where
    if isinstance(exc, errors.ClientError):
        return _client_error(exc, access, location, where, obj)
    if isinstance(exc, errors.NoCredentialsError):
        return (
            f"no AWS credentials for {where}: set s3.access_key_id and s3.secret_access_key (as ${{VARS}}), "
            "or s3.profile, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run with an instance/task role"
        )
    if isinstance(exc, errors.ProfileNotFound):
        return (
            f"AWS profile {access.profile!r} is not in the shared config (~/.aws/config, ~/.aws/credentials): "
            "fix s3.profile or add the profile"
        )
    if isinstance(exc, errors.ConnectTimeoutError):
        return (
            f"{endpoint} did not accept a connection within {min(access.timeout, 10.0):g}s: "
            "is s3.endpoint_url right, and does a firewall let this machine reach it?"
        )
    if isinstance(exc, errors.ReadTimeoutError):
        return (
            f"{endpoint} accepted the connection but did not answer within "
            f"{access.timeout:g}s (s3.timeout) while reading {obj}: is it an S3 server, and is it overloaded?"
        )
    if isinstance(exc, errors.IncompleteReadError | errors.ResponseStreamingError):
        return (
            f"{obj} was cut short while being read (fewer bytes than its Content-Length): the server or a "
            "proxy closed the connection; run the check again, and if it repeats, the stored object is damaged"
        )
    if isinstance(exc, errors.FlexibleChecksumError):
        return (
            f"{obj} does not match the checksum S3 stored with it ({_short(exc)}): the stored object is "
            "damaged, or was changed while it was read; upload the backup again"
        )
    if isinstance(exc, errors.SSLError):
        return (
            f"TLS to {endpoint} failed ({_short(exc)}): is s3.endpoint_url https with a trusted certificate?"
        )
    if isinstance(exc, errors.EndpointConnectionError):
        return f"cannot connect to {endpoint} ({_reason(exc)}): is s3.endpoint_url right and the server up?"
    if isinstance(exc, errors.BotoCoreError):
        return f"S3 request for {obj} failed: {_short(exc)}"
    return f"S3 request for {obj} failed: {type(exc).__name__}: {_short(exc)}"


def _client_error(exc: Exception, access: S3Access, location: S3Location, where: str, obj: str) -> str:
    response = getattr(exc, "response", {}) or {}
    error = response.get("Error", {})
    code = str(error.get("Code", ""))
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code in ("NoSuchBucket",) or (code == "404" and obj == where):
        return (
            f"bucket {location.bucket} does not exist{_at(access)}: is `path` right (and s3.endpoint_url, "
            "for a non-AWS store)?"
        )
    if code in ("NoSuchKey", "404"):
        return (
            f"{obj} was deleted between listing and reading (a lifecycle rule or the backup job's pruning "
            "ran meanwhile); run the check again"
        )
    if code in ("PreconditionFailed", "412"):
        return (
            f"{obj} was replaced between listing and reading (the backup job rewrote it); run the check again"
        )
    if code == "InvalidObjectState":
        storage = error.get("StorageClass") or "an archive tier"
        return archived_message(obj, str(storage))
    if code == "InvalidToken":
        return (
            f"the S3 session token was refused by {access.endpoint_url or 'AWS'} ({code}): it is not the one "
            "issued with s3.access_key_id (cut, or from another session); set s3.session_token (or the "
            "profile's credentials) from the same, current session"
        )
    if code in _CREDENTIAL_CODES:
        return (
            f"the S3 credentials were refused by {access.endpoint_url or 'AWS'} ({code}): check "
            "s3.access_key_id / s3.secret_access_key (or the profile / AWS_* variables); a key pair may have "
            "been rotated"
        )
    if code == "ExpiredToken":
        return f"the S3 session token has expired ({code}): refresh s3.session_token or the profile's credentials"
    if code in _REGION_CODES or status == 301:
        region = error.get("Region") or response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get(
            "x-amz-bucket-region"
        )
        hint = f"set s3.region: {region}" if region else "set s3.region to the bucket's region"
        return f"bucket {location.bucket} is in another region than {access.region or 'the default'} ({code}): {hint}"
    if code in ("AccessDenied", "403", "AllAccessDisabled") or status == 403:
        return (
            f"access denied to {obj} ({'AccessDenied' if code in ('', '403') else code}): the credentials need s3:ListBucket on "
            f"arn:aws:s3:::{location.bucket} (prefix {location.prefix or '*'}) and s3:GetObject on "
            f"arn:aws:s3:::{location.bucket}/{location.prefix}* (see docs/backups.md, 'Backups in object storage')"
        )
    message = str(error.get("Message", "")) or _short(exc)
    return f"S3 refused the request for {obj}: {code or status} {message}"


def archived_message(obj: str, storage_class: str) -> str:
    """An archived object cannot be read without a restore request: say so, and the two ways out."""
    return (
        f"{obj} is in storage class {storage_class}: it cannot be read without a restore request "
        "(aws s3api restore-object), so its contents were not checked; keep recent backups in a readable "
        "class (transition later in the lifecycle rule), or set allow_archived: true to check only the listing"
    )


def _at(access: S3Access) -> str:
    return f" at {access.endpoint_url}" if access.endpoint_url else ""


def _reason(exc: Exception) -> str:
    text = str(getattr(exc, "kwargs", {}).get("error", "")) or str(exc)
    lowered = text.lower()
    if "refused" in lowered:
        return "connection refused"
    if "name or service not known" in lowered or "nodename nor servname" in lowered:
        return "the host name does not resolve"
    return _short(exc)


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
