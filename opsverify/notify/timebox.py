"""Run user code (a Python channel, a notification hook) with a time limit; it never raises out of here.

The call runs in a daemon thread: one that hangs is reported and left behind (a thread cannot be killed),
so it can never hold the run open past its limit nor change a verdict.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from opsverify.redaction import redact


def call_limited(function: Callable[..., Any], seconds: float, *args: Any, **kwargs: Any) -> str | None:
    """Call `function(*args, **kwargs)`; None when it returned in time, else what went wrong (redacted)."""
    outcome: dict[str, BaseException] = {}

    def run() -> None:
        try:
            function(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 (user code: anything it raises is reported)
            outcome["error"] = exc

    name = getattr(function, "__qualname__", repr(function))
    worker = threading.Thread(target=run, name=f"opsverify-hook-{name}", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        return f"{name} did not return within {seconds:g}s (left running; the verdict stands)"
    error = outcome.get("error")
    if error is not None:
        return redact(f"{name} raised {type(error).__name__}: {error}")[:500]
    return None
