"""What pytest-xdist workers send the controller, in fewer and cheaper messages: one pickled batch per test.

A worker sends the controller 6 events per test (`logstart`, the setup, call and teardown reports,
`logfinish`, `runtest_protocol_complete`), each an execnet message that execnet's serialiser walks value by
value in Python, one pipe write each, and one wake-up of the controller's receiving thread each (6000 for a
1000-check gate). Here a worker sends `logstart` as before (the controller learns at once that a test
started) and keeps the rest of the test's events until the test is complete, then sends them as one message:
one pickled blob (pickle is C), whose events the controller hands to xdist's own handler one by one, in
order, as if they had come separately. The events' content does not change: a report is the dict
`pytest_report_to_serializable` made, which pytest's own hook turns into the report on the controller, so
every plugin (terminal, JUnit, --durations, the run recorder) gets the report it got before.

Only when both sides agree: the controller offers it in the worker's `workerinput` (a controller without this
module offers nothing, and its workers send as xdist does), and only events made of plain values (dict, list,
tuple, str, numbers, bool, None, bytes) are batched; a test whose events carry anything else (an object a
plugin attached to a report) has them sent one by one as before (its reports pickled alone when they can
be). Any other event (`workerfinished`, warnings, `unscheduled`, ...) first sends what is kept, so the order
never changes. The controller unpickles with a loader that refuses every class, so a blob can only ever give
back plain values.
"""

from __future__ import annotations

import io
import pickle
import threading
from typing import Any

import pytest

WIRE_INPUT = "opsverify_report_wire"  # workerinput key: the controller reads this encoding
WIRE_VERSION = 2  # 1: reports pickled one by one; 2: and a test's events after `logstart` in one batch
WIRE_KEY = "opsverify_pickled_report"  # the only key of an encoded report's data
BATCH_EVENT = "opsverify_batch"  # a batch's event name; its only argument is `blob`
KEPT_EVENTS = frozenset({"testreport", "logfinish"})  # kept until the test's `runtest_protocol_complete`
END_OF_TEST = "runtest_protocol_complete"


class _PlainPickler(pickle.Pickler):
    """Pickles plain values only: anything else raises, and the values go as they did before instead."""

    def reducer_override(self, obj: Any) -> Any:
        # Called for every object that is not an exact int, float, str, bytes, dict, list, tuple, set, bool
        # or None (those pickle without it): refuse it.
        raise pickle.PicklingError(f"not a plain value: {type(obj).__name__}")


class _PlainUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"a worker's report refers to {module}.{name}: only plain values cross")


def dumps_plain(value: Any) -> bytes | None:
    """`value` pickled when it holds plain values only, else None."""
    buffer = io.BytesIO()
    try:
        _PlainPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    except (pickle.PicklingError, TypeError, AttributeError, RecursionError):
        return None
    return buffer.getvalue()


def loads_plain(blob: bytes) -> Any:
    """A blob of plain values back (a reference to any class is refused: `pickle.UnpicklingError`)."""
    return _PlainUnpickler(io.BytesIO(blob)).load()


def encode(data: dict[str, Any]) -> dict[str, Any]:
    """The report's data as one pickled blob, or the data itself when it holds more than plain values."""
    blob = dumps_plain(data)
    return data if blob is None else {WIRE_KEY: blob}


def decode(data: Any) -> dict[str, Any] | None:
    """The report data inside an encoded report, else None (a report sent as a plain dict)."""
    if not isinstance(data, dict) or len(data) != 1 or not isinstance(data.get(WIRE_KEY), bytes):
        return None
    decoded = loads_plain(data[WIRE_KEY])
    if not isinstance(decoded, dict):
        raise pickle.UnpicklingError(f"a worker's report is a {type(decoded).__name__}, not a mapping")
    return decoded


def decode_batch(blob: Any) -> list[tuple[str, dict[str, Any]]]:
    """The events inside a batch, in the order the worker sent them."""
    events = loads_plain(blob) if isinstance(blob, bytes) else None
    if not isinstance(events, list) or not all(
        isinstance(event, tuple)
        and len(event) == 2
        and isinstance(event[0], str)
        and isinstance(event[1], dict)
        for event in events
    ):
        raise pickle.UnpicklingError("a worker's batch is not a list of (event, arguments)")
    return events


# --- the controller ---------------------------------------------------------------------------------------


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """On the controller, before xdist starts the worker: offer batches, and unpack them as they arrive.

    xdist's `WorkerController.setup` calls this hook before it sets `process_from_remote` as the channel's
    callback, so the instance attribute set here is the callback."""
    node.workerinput[WIRE_INPUT] = WIRE_VERSION
    node.process_from_remote = batch_receiver(node.process_from_remote)


def batch_receiver(receive: Any) -> Any:
    """xdist's `process_from_remote(eventcall)` that hands each event of a batch to `receive` in order."""

    def process_from_remote(eventcall: Any) -> None:
        if not (isinstance(eventcall, tuple) and len(eventcall) == 2 and eventcall[0] == BATCH_EVENT):
            receive(eventcall)
            return
        try:
            events = decode_batch(eventcall[1].get("blob"))
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as exc:
            receive(
                ("internal_error", {"formatted_error": f"opsverify: a worker's events unreadable: {exc}"})
            )
            return
        for event in events:
            receive(event)

    return process_from_remote


@pytest.hookimpl(tryfirst=True)
def pytest_report_from_serializable(config: pytest.Config, data: Any) -> Any:
    """On the controller: a report pickled alone becomes the dict it was, which pytest's own hook turns into
    the report (in xdist's receiving thread, as before)."""
    decoded = decode(data)
    if decoded is None:
        return None
    return config.hook.pytest_report_from_serializable(config=config, data=decoded)


# --- a worker ---------------------------------------------------------------------------------------------


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """On a worker whose controller reads batches: send through a `BatchingSender` (xdist's own, wrapped)."""
    workerinput = getattr(config, "workerinput", None)
    if not isinstance(workerinput, dict) or workerinput.get(WIRE_INPUT) != WIRE_VERSION:
        return
    for plugin in config.pluginmanager.get_plugins():
        if type(plugin).__name__ == "WorkerInteractor" and callable(getattr(plugin, "sendevent", None)):
            plugin.sendevent = BatchingSender(plugin.sendevent)


class BatchingSender:
    """`sendevent(name, **kwargs)`: a test's reports and `logfinish` kept until its end, then sent in one batch.

    Called from the worker's main thread and from execnet's receiving thread (xdist answers a steal there with
    `unscheduled`): a lock keeps each send and the batch it flushes together."""

    def __init__(self, send: Any) -> None:
        self._send = send
        self._kept: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()

    def __call__(self, name: str, **kwargs: Any) -> None:
        with self._lock:
            if name in KEPT_EVENTS or (name == END_OF_TEST and self._kept):
                self._kept.append((name, kwargs))
                if name == END_OF_TEST:
                    self._flush()
                return
            self._flush()
            self._send(name, **encoded_report(name, kwargs))

    def _flush(self) -> None:
        kept, self._kept = self._kept, []
        if not kept:
            return
        blob = dumps_plain(kept)
        if blob is not None:
            self._send(BATCH_EVENT, blob=blob)
            return
        for name, kwargs in kept:  # something in them is not a plain value: one by one, as xdist sends
            self._send(name, **encoded_report(name, kwargs))


def encoded_report(name: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """A `testreport` event's arguments with the report pickled alone when it can be; others unchanged."""
    if name == "testreport" and isinstance(kwargs.get("data"), dict):
        return {**kwargs, "data": encode(kwargs["data"])}
    return kwargs
