"""Config model of `backups:` entries (daily integrity checks and the `restore:` drill). STUB: issue 3."""

from __future__ import annotations

from typing import Any

from opsverify.config.types import CheckEntry, StrictModel, Tier


class RestoreSpec(StrictModel):
    tiers: list[Tier] | None = None
    sandbox: str = "auto"
    expect: dict[str, Any] | None = None


class BackupCheck(CheckEntry):
    path: str
    pattern: str = "*"
    restore: RestoreSpec | None = None
