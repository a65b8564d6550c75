"""The version is written once (opsverify/__init__.py) and the installed distribution says the same."""

from __future__ import annotations

import re
from importlib.metadata import version

import opsverify


def test_the_installed_distribution_has_the_package_version() -> None:
    assert version("opsverify") == opsverify.__version__


def test_the_version_is_a_release_number() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", opsverify.__version__)
