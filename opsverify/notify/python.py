"""A channel of your own in Python: `python: {callable: "mypkg.alerts:send", timeout: 10s}`.

The callable receives the run's `Message` for this channel (status, target, failures with their structured
problems, resolved checks, counts; `message.as_json()` for a dict) under the same silence, threshold and
one-message-per-channel decisions as every other channel. It runs with a time limit; an exception or a
timeout is a failed delivery (reported, retried as configured), never a changed verdict.
"""

from __future__ import annotations

from typing import Any

from opsverify.config.notify import PythonSettings
from opsverify.loader import ReferenceLoadError, load_reference
from opsverify.notify.base import Channel, DeliveryError
from opsverify.notify.message import Message
from opsverify.notify.timebox import call_limited


class PythonChannel(Channel[PythonSettings]):
    type_name = "python"

    def _function(self) -> Any:
        function = load_reference(self.settings.callable)
        if not callable(function):
            raise ReferenceLoadError(f"{self.settings.callable!r} is not callable")
        return function

    def validate(self) -> list[str]:
        try:
            self._function()
        except ReferenceLoadError as exc:
            return [
                f"python.callable: {exc}; put the module on the path (pip install it, or a conftest's folder)"
            ]
        return []

    def send(self, message: Message) -> None:
        error = call_limited(self._function(), self.settings.timeout, message)
        if error is not None:
            raise DeliveryError(error)

    def preview(self, message: Message) -> str:
        return f"{self.settings.callable}(message) with {message.headline}"
