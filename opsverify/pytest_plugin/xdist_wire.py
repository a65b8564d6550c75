"""Test reports from pytest-xdist workers to the controller in one piece: a pickled blob, not a nested dict.

xdist sends every setup, call and teardown report (3000 for a 1000-check gate) through execnet, whose
serialiser walks each report's dict value by value in Python on the worker and again on the controller
(~260 ms for 3000 reports); pickle does it in C (~66 ms, bench/README.md). The report's content does not change:
the worker pickles exactly the dict `pytest_report_to_serializable` made, the controller unpickles it and
hands it to the same hook, so every plugin (terminal, JUnit, --durations, the run recorder) gets the
report it got before.

Only when both sides agree: the controller offers it in the worker's `workerinput` (a controller without
this module offers nothing, and its workers send plain dicts), and only reports made of plain values (dict,
list, tuple, str, numbers, bool, None, bytes) are pickled; a report that carries anything else (an object a
plugin attached) goes as before. The controller unpickles with a loader that refuses every class, so a
blob can only ever give back plain values.
"""

from __future__ import annotations

import io
import pickle
from typing import Any

import pytest

WIRE_INPUT = "opsverify_report_wire"  # workerinput key: the controller decodes this encoding
WIRE_VERSION = 1
WIRE_KEY = "opsverify_pickled_report"  # the only key of an encoded report's data


class _PlainPickler(pickle.Pickler):
    """Pickles plain values only: anything else raises, and the report goes as a plain dict instead."""

    def reducer_override(self, obj: Any) -> Any:
        # Called for every object that is not an exact int, float, str, bytes, dict, list, tuple, set, bool
        # or None (those pickle without it): refuse it.
        raise pickle.PicklingError(f"not a plain value: {type(obj).__name__}")


class _PlainUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"a worker's report refers to {module}.{name}: only plain values cross")


def encode(data: dict[str, Any]) -> dict[str, Any]:
    """The report's data as one pickled blob, or the data itself when it holds more than plain values."""
    buffer = io.BytesIO()
    try:
        _PlainPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(data)
    except (pickle.PicklingError, TypeError, AttributeError, RecursionError):
        return data
    return {WIRE_KEY: buffer.getvalue()}


def decode(data: Any) -> dict[str, Any] | None:
    """The report data inside an encoded report, else None (a report sent as a plain dict)."""
    if not isinstance(data, dict) or len(data) != 1 or not isinstance(data.get(WIRE_KEY), bytes):
        return None
    decoded = _PlainUnpickler(io.BytesIO(data[WIRE_KEY])).load()
    if not isinstance(decoded, dict):
        raise pickle.UnpicklingError(f"a worker's report is a {type(decoded).__name__}, not a mapping")
    return decoded


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """On the controller: tell each worker that its reports may come encoded."""
    node.workerinput[WIRE_INPUT] = WIRE_VERSION


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """On a worker whose controller decodes: send test reports encoded (xdist's own sender, wrapped)."""
    workerinput = getattr(config, "workerinput", None)
    if not isinstance(workerinput, dict) or workerinput.get(WIRE_INPUT) != WIRE_VERSION:
        return
    for plugin in config.pluginmanager.get_plugins():
        if type(plugin).__name__ == "WorkerInteractor" and callable(getattr(plugin, "sendevent", None)):
            plugin.sendevent = encoding_sender(plugin.sendevent)


def encoding_sender(send: Any) -> Any:
    """`sendevent(name, **kwargs)` that encodes the data of a test report and sends everything else as is."""

    def sendevent(name: str, **kwargs: Any) -> None:
        if name == "testreport" and isinstance(kwargs.get("data"), dict):
            kwargs["data"] = encode(kwargs["data"])
        send(name, **kwargs)

    return sendevent


@pytest.hookimpl(tryfirst=True)
def pytest_report_from_serializable(config: pytest.Config, data: Any) -> Any:
    """On the controller: an encoded report becomes the dict it was, which pytest's own hook turns into the
    report (in xdist's receiving thread, as before)."""
    decoded = decode(data)
    if decoded is None:
        return None
    return config.hook.pytest_report_from_serializable(config=config, data=decoded)
