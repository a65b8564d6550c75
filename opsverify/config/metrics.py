"""Config model of `metrics:` entries. STUB: issue 5."""

from __future__ import annotations

from opsverify.config.types import CheckEntry


class MetricsCheck(CheckEntry):
    pass
