"""Config model of `logs:` entries. STUB: issue 5."""

from __future__ import annotations

from opsverify.config.types import CheckEntry


class LogsCheck(CheckEntry):
    pass
