"""A pytest plugin for the `pytest --target` runs of test_wait_progress.py (`-p tests.pytest_plugin.quick_progress`,
the repository on PYTHONPATH): the wait lines' timings scaled down, so a wait long enough for two lines on a
terminal takes seconds, not the product's 3 s + 5 s. Only the timings change; what the lines say and when
they are printed (the code under test) is the product's."""

from __future__ import annotations

from opsverify.pytest_plugin import pool, progress

NOTICE_AFTER = 1.0  # the product's progress.NOTICE_AFTER: seconds before the first line
EVERY = 1.0  # the product's progress.EVERY: seconds between lines on a terminal
WATCH_TICK = 0.2  # the product's pool.WATCH_TICK: how often a waiting test looks

progress.NOTICE_AFTER = NOTICE_AFTER
progress.EVERY = EVERY
pool.WATCH_TICK = WATCH_TICK
