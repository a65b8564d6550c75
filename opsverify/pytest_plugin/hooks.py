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
