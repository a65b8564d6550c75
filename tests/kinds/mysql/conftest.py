"""A throwaway database on the real MySQL/MariaDB for the mysql probe tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.mysql_server import throwaway_database


@pytest.fixture
def mysql_database(mysql_url: str) -> Iterator[str]:
    with throwaway_database(mysql_url) as url:
        yield url
