"""The interface every channel implements: `validate()` and `send(message)` (one attempt; delivery retries)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, Generic, TypeVar

from opsverify.config.notify import ChannelSettings
from opsverify.notify.message import Message

SettingsT = TypeVar("SettingsT", bound=ChannelSettings)


class DeliveryError(Exception):
    """A delivery attempt failed and retrying will not help (bad request, auth refused, ...)."""


class RetryableError(DeliveryError):
    """A delivery attempt failed in a way worth retrying (429, 5xx, timeout, connection refused)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Channel(ABC, Generic[SettingsT]):
    """A configured notification channel. Subclasses render the message their service expects."""

    type_name: ClassVar[str]

    def __init__(self, name: str, settings: SettingsT) -> None:
        self.name = name
        self.settings = settings

    def validate(self) -> list[str]:
        """Problems that make this channel unusable before anything is sent (empty when fine)."""
        return []

    @abstractmethod
    def send(self, message: Message) -> None:
        """Deliver `message` once; raise RetryableError or DeliveryError (messages redacted, no URLs)."""

    @abstractmethod
    def preview(self, message: Message) -> str:
        """What `send` would transmit, as text (for --notify-dry-run)."""
