"""Run the backups check of one entry over a bucket, in-process (the probe and the verdict)."""

from __future__ import annotations

from typing import Any

from opsverify.kinds.backups.facts import BackupFacts
from opsverify.kinds.backups.model import BackupCheck
from opsverify.kinds.backups.probe import probe
from opsverify.kinds.backups.verdict import backup_problems
from opsverify.kinds.base import ProbeContext
from tests.backups.s3.motoserver import KEY_ID, REGION, SECRET


def s3_entry(endpoint: str, bucket: str, prefix: str = "db/", **fields: Any) -> BackupCheck:
    settings = {
        "endpoint_url": endpoint,
        "region": REGION,
        "access_key_id": KEY_ID,
        "secret_access_key": SECRET,
        "timeout": 5,
        "retries": 0,
        **fields.pop("s3", {}),
    }
    return BackupCheck.model_validate({"path": f"s3://{bucket}/{prefix}", "s3": settings, **fields})


def run_check(entry: BackupCheck) -> tuple[BackupFacts, list[str]]:
    """The facts and the problems, each problem as one line (subject: expected ..., got ...)."""
    from pathlib import Path

    facts = probe(entry, ProbeContext("t", Path(".")))
    return facts, [problem.text for problem in backup_problems(entry, facts)]
