"""opsverify's own hooks: what a conftest.py or an installed plugin can implement."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.hookspec
def pytest_opsverify_judged(item: pytest.Item, facts: Any, judgement: Any) -> None:
    """Called in the test's call phase after a built-in check's verdict, before it passes or fails.

    `facts` is what the probe observed; `judgement.problems` the structured problems (empty: it passed).
    The report plugin adds the Allure steps and attachments here.
    """


@pytest.hookspec
def pytest_opsverify_check_failed(check: Any, problems: Any, decision: str) -> None:
    """Called on the controller at the end of a run, once per failed check, after notifications.

    `check` is its `opsverify.results.CheckResult` (id, target, severity, reason, note, figures),
    `problems` its structured problems (`opsverify.problem.Problem`), `decision` what the channels decided:
    `new`, `reminder`, `ongoing`, `below_threshold`, `blocked`, `silenced`, `maintenance` (or `unrouted` when
    the target has no notify routes). Route it to your own systems; alert only on `new`/`reminder` to follow
    the same threshold and dedup as the channels. Time-limited ($OPSVERIFY_HOOK_TIMEOUT, 30 s); an exception
    or a timeout is reported and never changes a verdict.
    """


@pytest.hookspec
def pytest_opsverify_run_finished(summary: Any, decisions: Any) -> None:
    """Called on the controller once per run after notifications: `summary` is the `RunSummary` (every
    result, counts, run id), `decisions` maps `target/check id` to the channels' decision (for passing
    checks also `passing`, `resolved`, or `flapping`: passes, but `N of M` runs still failed). Time-limited."""
