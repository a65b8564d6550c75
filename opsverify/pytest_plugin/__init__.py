"""The pytest plugin (entry point `opsverify`): `--target`, the target's checks as pytest items, tiers as
marks, probes run concurrently ahead of their tests, the fixtures for hand-written checks, and reports."""

from __future__ import annotations

import pytest

pytest_plugins = [
    "opsverify.pytest_plugin.targets",
    "opsverify.pytest_plugin.collect",
    "opsverify.pytest_plugin.fixtures",
    "opsverify.pytest_plugin.interrupt",
    "opsverify.pytest_plugin.reporting",
    "opsverify.pytest_plugin.run_end",
    "opsverify.pytest_plugin.xdist_wire",
]


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from opsverify.pytest_plugin import hooks

    pluginmanager.add_hookspecs(hooks)
