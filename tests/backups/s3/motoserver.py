"""moto's standalone S3 server, started by the tests on a free loopback port (real HTTP, never patched).

Imported by the conftest.py of the test folders that use it (tests/backups/s3, tests/drills, tests/checks).
"""

from __future__ import annotations

import gzip
import http.client
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import boto3
import pytest

from tests.conftest import free_port
from tests.shared import once_per_process

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

LAUNCHER = Path(__file__).with_name("moto_launcher.py")
REGION = "us-east-1"
KEY_ID, SECRET = "testing-key-id", "testing-secret"


@dataclass
class MotoS3:
    """A running moto server and the means to fill it."""

    endpoint: str
    process: subprocess.Popen[bytes]

    def client(self, key_id: str = KEY_ID, secret: str = SECRET) -> S3Client:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=key_id,
            aws_secret_access_key=secret,
        )

    def bucket(self) -> str:
        """A new empty bucket with a unique name (tests run side by side on one server)."""
        name = f"bk-{uuid.uuid4().hex[:16]}"
        self.client().create_bucket(Bucket=name)
        return name

    def put(self, bucket: str, key: str, body: bytes, age_hours: float = 1.0, **extra: Any) -> None:
        """Upload `body`; its LastModified is `age_hours` in the past (see moto_launcher.py)."""
        metadata = {"backdate-seconds": str(int(age_hours * 3600))}
        self.client().put_object(Bucket=bucket, Key=key, Body=body, Metadata=metadata, **extra)

    def put_many(
        self, bucket: str, objects: Iterable[tuple[str, bytes, float]], connections: int = 4
    ) -> None:
        """Upload many small objects (key, body, age in hours) quickly: plain PUTs on kept-alive connections.

        The server does not check credentials (no INITIAL_NO_AUTH_ACTION_COUNT), so the requests need no
        signature; boto3's signing and checksums cost more client CPU than moto spends storing the object."""
        host, _, port = self.endpoint.removeprefix("http://").partition(":")
        queue = list(objects)

        def upload(share: list[tuple[str, bytes, float]]) -> None:
            connection = http.client.HTTPConnection(host, int(port), timeout=60)
            try:
                for key, body, age_hours in share:
                    headers = {"x-amz-meta-backdate-seconds": str(int(age_hours * 3600))}
                    connection.request("PUT", f"/{bucket}/{quote(key)}", body=body, headers=headers)
                    response = connection.getresponse()
                    answer = response.read()
                    assert response.status == 200, f"PUT {key}: {response.status} {answer[:300]!r}"
            finally:
                connection.close()

        with ThreadPoolExecutor(connections) as pool:
            list(pool.map(upload, [queue[start::connections] for start in range(connections)]))


def start_moto(log: Path, env: dict[str, str] | None = None) -> MotoS3:
    port = free_port()
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, str(LAUNCHER), str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"moto_server exited with {process.returncode}:\n{log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return MotoS3(f"http://127.0.0.1:{port}", process)
        except OSError:
            time.sleep(0.1)
    process.kill()
    pytest.fail(f"moto_server did not listen on 127.0.0.1:{port} within 60s:\n{log.read_text()}")


def stop_moto(server: MotoS3) -> None:
    server.process.terminate()
    try:
        server.process.wait(10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture(scope="session")
@once_per_process  # four conftest.py files import it: one server per test process, not four
def moto_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoS3]:
    """moto's S3 server, credentials not checked; tests share it through buckets of their own
    (`MotoS3.bucket()` names them uniquely). ~1.4 s of CPU to start in a venv without bytecode."""
    server = start_moto(tmp_path_factory.mktemp("moto") / "moto.log")
    yield server
    stop_moto(server)


@dataclass
class AuthS3:
    """A moto server that checks credentials and IAM policies, with one bucket and two users."""

    server: MotoS3
    bucket: str
    list_only: tuple[str, str]  # s3:ListBucket only (no s3:GetObject)
    reader: tuple[str, str]  # the least-privilege policy of docs/backups.md
    session: tuple[str, str, str]  # an STS session (key id, secret, token) of a role with that policy


SETUP_ACTIONS = 11  # requests made before moto starts checking credentials (see moto_s3_auth)


def least_privilege_policy(bucket: str, prefix: str, get: bool = True) -> dict[str, Any]:
    """The policy docs/backups.md recommends: list the prefix, read its objects; nothing else.

    Two departures for moto's IAM: the `s3:prefix` condition is left out (moto does not evaluate it and
    denies), and the listing is also allowed as `s3:ListObjectsV2` (moto names the action after the API
    call; AWS checks s3:ListBucket for it).
    """
    statements: list[dict[str, Any]] = [
        {
            "Effect": "Allow",
            "Action": ["s3:ListBucket", "s3:ListObjectsV2"],
            "Resource": f"arn:aws:s3:::{bucket}",
        }
    ]
    if get:
        statements.append(
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}
        )
    return {"Version": "2012-10-17", "Statement": statements}


@pytest.fixture(scope="session")
@once_per_process  # imported by two conftest.py files
def moto_s3_auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthS3]:
    log = tmp_path_factory.mktemp("moto-auth") / "moto.log"
    server = start_moto(log, {"INITIAL_NO_AUTH_ACTION_COUNT": str(SETUP_ACTIONS)})
    iam = boto3.client(
        "iam",
        endpoint_url=server.endpoint,
        region_name=REGION,
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
    )
    bucket = "bk-auth"
    s3 = server.client()
    s3.create_bucket(Bucket=bucket)
    s3.put_object(
        Bucket=bucket, Key="db/backup_1.sql.gz", Body=gzip.compress(b"-- PostgreSQL database dump\n")
    )
    users = []
    for name, get in (("list-only", False), ("reader", True)):
        iam.create_user(UserName=name)
        key = iam.create_access_key(UserName=name)["AccessKey"]
        iam.put_user_policy(
            UserName=name,
            PolicyName="opsverify-backups",
            PolicyDocument=json.dumps(least_privilege_policy(bucket, "db/", get)),
        )
        users.append((key["AccessKeyId"], key["SecretAccessKey"]))
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
    }
    role = iam.create_role(RoleName="backup-reader", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    iam.put_role_policy(
        RoleName="backup-reader",
        PolicyName="opsverify-backups",
        PolicyDocument=json.dumps(least_privilege_policy(bucket, "db/")),
    )
    sts = boto3.client(
        "sts",
        endpoint_url=server.endpoint,
        region_name=REGION,
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
    )
    granted = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="opsverify-check")["Credentials"]
    session = (granted["AccessKeyId"], granted["SecretAccessKey"], granted["SessionToken"])
    yield AuthS3(server, bucket, users[0], users[1], session)
    stop_moto(server)
