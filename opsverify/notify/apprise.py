"""Apprise: any Apprise URL (Teams, PagerDuty, Discord, Telegram, ...). Needs `pip install opsverify[apprise]`.

Apprise logs through the `apprise` logger, and its log lines can contain the URL (a secret): while a
message is sent, those records are kept from other handlers and only their redacted text is used.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import threading
import warnings
from collections.abc import Iterator
from typing import Any

from opsverify.config.notify import AppriseSettings
from opsverify.notify.base import Channel, DeliveryError, RetryableError
from opsverify.notify.message import Message
from opsverify.redaction import redact

_SEND_LOCK = threading.Lock()  # the apprise logger is process-wide; one capture at a time


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(redact(record.getMessage()))


@contextlib.contextmanager
def _apprise_quietly() -> Iterator[None]:
    """Apprise loads its plugins lazily, and some import the deprecated `imghdr`: not our failure."""
    with _SEND_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


def _load_apprise() -> Any:
    try:
        with _apprise_quietly():
            return importlib.import_module("apprise")
    except ImportError:
        return None


class AppriseChannel(Channel[AppriseSettings]):
    """Sends the text body with the headline as title; a failed Apprise delivery is retried."""

    type_name = "apprise"

    def validate(self) -> list[str]:
        module = _load_apprise()
        if module is None:
            return [f"channel {self.name}: apprise is not installed; `pip install 'opsverify[apprise]'`"]
        problems = []
        for index, url in enumerate(self.settings.url):
            with _apprise_quietly():
                valid = module.Apprise().add(url)
            if not valid:
                scheme = url.split("://", 1)[0]
                problems.append(
                    f"channel {self.name}: url[{index}] ({scheme}://...) is not a valid Apprise URL; "
                    "see https://github.com/caronc/apprise/wiki for the URL of each service"
                )
        return problems

    def send(self, message: Message) -> None:
        module = _load_apprise()
        problems = self.validate()
        if module is None or problems:
            raise DeliveryError("; ".join(problems))
        with _apprise_quietly():
            notifier = module.Apprise()
            for url in self.settings.url:
                notifier.add(url)
        notify_type = (
            module.NotifyType.FAILURE
            if message.status == "failed"
            else module.NotifyType.SUCCESS
            if message.status in ("resolved", "passed")
            else module.NotifyType.INFO
        )
        logger = logging.getLogger("apprise")
        collect = _Collect()
        with _apprise_quietly():
            propagate = logger.propagate
            logger.addHandler(collect)
            logger.propagate = False
            try:
                ok = notifier.notify(body=message.text(), title=message.headline, notify_type=notify_type)
            except Exception as exc:  # noqa: BLE001 (a plugin's own bug must not escape; it is reported)
                raise DeliveryError(f"apprise raised {type(exc).__name__}") from None
            finally:
                logger.removeHandler(collect)
                logger.propagate = propagate
        if not ok:
            detail = collect.lines[-1] if collect.lines else "no detail logged"
            raise RetryableError(f"apprise could not deliver: {detail[:300]}")

    def preview(self, message: Message) -> str:
        return redact(f"{message.headline}\n\n{message.text()}")
