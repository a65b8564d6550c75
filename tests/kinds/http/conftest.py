"""The TLS servers of tests/probes/conftest.py, for the http probe's `verify:` tests; and both clients.

Every test of a module that imports the http probe (`probe`) runs twice: through requests, as a run with
few http checks probes them (a thread each), and through aiohttp on an event loop, as a run with many
does (`opsverify.kinds.http.aio`). The two must observe and describe the same.
"""

from __future__ import annotations

from typing import Any

import pytest

from opsverify import asyncrun
from opsverify.kinds.base import ProbeContext
from opsverify.kinds.http import aio
from opsverify.kinds.http.facts import HttpFacts
from opsverify.kinds.http.model import HttpCheck
from opsverify.kinds.http.probe import probe as blocking_probe
from tests.probes.conftest import certificates, tls_server

__all__ = ["certificates", "tls_server"]


def probe_on_the_loop(entry: HttpCheck, ctx: ProbeContext) -> HttpFacts:
    return asyncrun.run(aio.probe(entry, ctx))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if getattr(metafunc.module, "probe", None) is blocking_probe:
        metafunc.parametrize("http_client", ["requests", "aiohttp"], indirect=True)


@pytest.fixture(autouse=True)
def http_client(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Any:
    client = getattr(request, "param", "requests")
    if client == "aiohttp":
        monkeypatch.setattr(request.module, "probe", probe_on_the_loop)
    return client
