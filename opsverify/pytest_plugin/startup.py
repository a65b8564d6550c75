"""Start-up cost of a run: the cyclic garbage collector paused while the plugin imports and builds.

Importing the plugin (pydantic, PyYAML, the target model), loading the target and importing a kind's probe
(requests, urllib3) allocate tens of thousands of objects that live as long as the process; meanwhile the
collector walks them again and again (every 700 allocations the youngest generation, and the older ones in
turn), and finds nothing to free. `gc_paused()` turns it off for one such step and back on after it (only if
it was on: a caller that turned it off keeps it off). Bounded steps only: the collector is never left off,
whether the run is a command-line run or one started from Python.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """The collector off for the block (no cyclic garbage is collected in it; reference counting frees the
    rest as usual), back on after it if it was on before."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
