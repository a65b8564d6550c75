"""Channel lookup: `create_channel` builds the sender that CHANNEL_TYPES (config/notify.py) names for a type."""

from __future__ import annotations

from typing import Any

from opsverify.config.notify import CHANNEL_TYPES, ChannelConfig, ChannelType
from opsverify.loader import load_reference
from opsverify.notify.base import Channel

__all__ = ["CHANNEL_TYPES", "channel_class", "create_channel"]


def channel_class(row: ChannelType) -> type[Channel[Any]]:
    """The sender class of a channel type row ("module:Class")."""
    cls = load_reference(row.sender)
    if not (isinstance(cls, type) and issubclass(cls, Channel)):
        raise TypeError(f"{row.sender} is not a Channel subclass")
    return cls


def create_channel(name: str, config: ChannelConfig) -> Channel[Any]:
    """The channel object for a `notify.channels.<name>` entry."""
    row = CHANNEL_TYPES[config.type_name]
    return channel_class(row)(name, config.settings)
