"""The channel table: every channel module in opsverify/notify/ is registered, and every row loads."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import opsverify.notify
from opsverify.config.notify import CHANNEL_TYPES, ChannelConfig, ChannelSettings
from opsverify.notify.base import Channel
from opsverify.notify.registry import channel_class, create_channel


def channel_classes_in_package() -> dict[str, type]:
    found: dict[str, type] = {}
    for module_info in pkgutil.iter_modules(opsverify.notify.__path__):
        module = importlib.import_module(f"opsverify.notify.{module_info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Channel) and cls is not Channel and cls.__module__ == module.__name__:
                found[f"{module.__name__}:{cls.__name__}"] = cls
    return found


def test_every_channel_module_is_registered_in_the_table() -> None:
    registered = {row.sender for row in CHANNEL_TYPES.values()}
    assert set(channel_classes_in_package()) == registered


def test_every_row_loads_its_sender_and_settings() -> None:
    assert set(CHANNEL_TYPES) == {"slack", "email", "webhook", "apprise", "python"}
    for name, row in CHANNEL_TYPES.items():
        cls = channel_class(row)
        assert cls.type_name == name
        assert issubclass(row.settings, ChannelSettings)
        assert name in ChannelConfig.model_fields  # the target-file key of this type


def test_create_channel_from_config() -> None:
    config = ChannelConfig.model_validate({"webhook": {"url": "https://example.com/h"}})
    channel = create_channel("ops-hook", config)
    assert channel.type_name == "webhook"
    assert channel.name == "ops-hook"
