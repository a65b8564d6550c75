"""A replica's S3 bucket on moto's standalone server (the test process's one, `moto_s3`), with the AWS
variables that reach it."""

from __future__ import annotations

from tests.backups.s3.motoserver import KEY_ID, REGION, SECRET, MotoS3


class ReplicaBucket:
    """One bucket of the replica's on the shared moto server; `env` is what the target's AWS credential chain
    reads. `stop()` removes the bucket and what it holds (the server is the session's)."""

    def __init__(self, server: MotoS3, name: str) -> None:
        self.server = server
        self.name = name
        self.server.client().create_bucket(Bucket=name)
        self.env = {
            "S3_ENDPOINT_URL": self.server.endpoint,
            "AWS_ACCESS_KEY_ID": KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET,
            "AWS_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def clear(self, prefix: str = "") -> None:
        client = self.server.client()
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=self.name, Prefix=prefix):
            for item in page.get("Contents", []):
                client.delete_object(Bucket=self.name, Key=item["Key"])

    def put(self, key: str, body: bytes, age_hours: float) -> None:
        self.server.put(self.name, key, body, age_hours=age_hours)

    def stop(self) -> None:
        self.clear()
        self.server.client().delete_bucket(Bucket=self.name)
