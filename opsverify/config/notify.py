"""Config model of the `notify:` section (channels, routes, policy, heartbeat)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from opsverify.config.types import StrictModel


class NotifyConfig(StrictModel):
    channels: dict[str, dict[str, Any]] = Field(default_factory=dict)
    routes: list[dict[str, Any]] = Field(default_factory=list)
    policy: dict[str, Any] = Field(default_factory=dict)
    heartbeat: dict[str, Any] | None = None
    state: str | None = None
