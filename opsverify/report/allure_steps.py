"""A check's Allure steps and attachments put straight into the result allure-pytest has open.

`allure.step` and `allure.attach` reach that result through allure-commons' plugin hooks: a hook call per
start and stop, a search for the last open item, a random UUID from `os.urandom`, and for an attachment a
second JSON pass in the redacting writer (parse, redact, dump). Over a 1000-check gate that was a few tenths
of a second of the test loop. `OpenResult` makes the same records (a step's name, start, stop, status and
message; an attachment's name, type and file) on the listener's open result and hands the attachment's
bytes, already redacted, to the writer as they are.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from allure_commons.model2 import Attachment, Status, StatusDetails, TestStepResult
from allure_commons.types import AttachmentType
from allure_commons.utils import now

from opsverify.redaction import redact
from opsverify.report.allure_files import step_uuid


class OpenResult:
    """The Allure result of the test that runs now, and the writer for its attachments."""

    def __init__(self, result: Any, write: Callable[[str, bytes], None]) -> None:
        self.result = result
        self._write = write

    @classmethod
    def of(cls, config: pytest.Config) -> OpenResult | None:
        """The listener's open result (None without allure-pytest or outside a test)."""
        result = open_result(config)
        if result is None:
            return None
        return cls(result, _writer(getattr(config.option, "allure_report_dir", None)))

    def step(self, parent: Any, title: str, failure: str | None = None) -> TestStepResult:
        """A finished step under `parent` (the result or a step): failed with `failure` as its message, as
        `allure.step` records an AssertionError (message `AssertionError: ...`, no trace)."""
        stamp = now()  # type: ignore[no-untyped-call]
        step = TestStepResult(name=title, start=stamp, stop=stamp, status=Status.PASSED)
        if failure is not None:
            step.status = Status.FAILED
            step.statusDetails = StatusDetails(message=f"AssertionError: {failure}\n")
        parent.steps.append(step)
        return step

    def attach(self, parent: Any, name: str, text: str, kind: AttachmentType) -> None:
        """`text` (already redacted) as an attachment of `parent`."""
        file_name = f"{step_uuid()}-attachment.{kind.extension}"
        parent.attachments.append(Attachment(source=file_name, name=name, type=kind.mime_type))
        self._write(file_name, text.encode("utf-8"))


def open_result(config: pytest.Config) -> Any | None:
    """The Allure result allure-pytest's listener has open: the running test's, written when its protocol
    ends (None without allure-pytest or outside a test)."""
    listener = config.pluginmanager.get_plugin("allure_listener")
    reporter = getattr(listener, "allure_logger", None)
    return reporter.get_test(None) if reporter is not None else None


def _writer(results_dir: str | None) -> Callable[[str, bytes], None]:
    """How attachment bytes reach the results folder: the redacting writer's queue when it serves the
    folder, else allure-commons' hook (whatever logger is registered)."""
    from opsverify.report.allure_writer import loggers_for

    loggers = loggers_for(Path(results_dir)) if results_dir else []
    if loggers:
        return loggers[0].write_redacted
    from allure_commons import plugin_manager

    def through_hook(file_name: str, data: bytes) -> None:
        plugin_manager.hook.report_attached_data(body=data, file_name=file_name)

    return through_hook


_FIELDS: dict[type, tuple[str, ...]] = {}


def redacted_json_data(value: object) -> object:
    """`value` as JSON data with every string (and key) redacted: dataclasses field by field, lists and
    tuples as lists, numbers, booleans and None as they are, anything else as its text."""
    kind = type(value)
    if kind is str:
        return redact(value)  # type: ignore[arg-type]
    if value is None or kind is bool or kind is int or kind is float:
        return value
    if kind is list or kind is tuple:
        return [redacted_json_data(item) for item in value]  # type: ignore[attr-defined]
    if kind is dict:
        return {redact(str(key)): redacted_json_data(item) for key, item in value.items()}  # type: ignore[attr-defined]
    names = _FIELDS.get(kind)
    if names is None and dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = _FIELDS[kind] = tuple(field.name for field in dataclasses.fields(value))
    if names is not None:
        return {name: redacted_json_data(getattr(value, name)) for name in names}
    if isinstance(value, str):  # a str enum: its value, as the JSON encoder writes it
        return redact(str.__str__(value))
    if isinstance(value, bool | int | float):
        return value
    return redact(str(value))


def redacted_json(value: object, indent: int = 2) -> str:
    """`redacted_json_data(value)` as JSON text."""
    return json.dumps(redacted_json_data(value), indent=indent, ensure_ascii=False)
