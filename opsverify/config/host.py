"""Config model of the `host:` section (disk, memory, load of the machine the suite runs on). STUB: issue 5."""

from __future__ import annotations

from typing import Any

from opsverify.config.types import CheckEntry, StrictModel


class HostEntry(CheckEntry):
    pass


class HostSection(StrictModel):
    def entries(self) -> list[tuple[str, Any]]:
        return []
