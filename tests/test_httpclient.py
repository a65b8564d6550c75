"""ProbeSession: the environment's proxy settings taken once when the session is made, and no walk of
os.environ per request — a walk that raced pytest's PYTEST_CURRENT_TEST updates raised KeyError in probes."""

from __future__ import annotations

import os
import threading
import urllib.request

import pytest

from opsverify.httpclient import ProbeSession
from tests.conftest import LocalHTTPServer

PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


@pytest.fixture
def clean_proxies(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    return monkeypatch


def test_proxy_and_no_proxy_from_the_environment(
    http_server: LocalHTTPServer, clean_proxies: pytest.MonkeyPatch
) -> None:
    proxy = LocalHTTPServer(routes={"*": (200, {"Content-Type": "text/plain"}, b"via proxy")}).start()
    http_server.routes["/healthz"] = (200, {"Content-Type": "text/plain"}, b"direct")
    try:
        clean_proxies.setenv("HTTP_PROXY", proxy.url)
        clean_proxies.setenv("NO_PROXY", "127.0.0.1")
        with ProbeSession() as session:
            assert session.get("http://app.test/healthz", timeout=5).text == "via proxy"
            assert session.get(f"{http_server.url}/healthz", timeout=5).text == "direct"
        assert [r["path"] for r in proxy.requests] == ["http://app.test/healthz"]
        clean_proxies.delenv("HTTP_PROXY")
        with ProbeSession() as session:  # read when made: without the variable, no proxy
            assert session.get(f"{http_server.url}/healthz", timeout=5).text == "direct"
    finally:
        proxy.stop()


def test_requests_while_another_thread_changes_the_environment(
    http_server: LocalHTTPServer, clean_proxies: pytest.MonkeyPatch
) -> None:
    http_server.routes["/"] = (200, {"Content-Type": "text/plain"}, b"ok")
    clean_proxies.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    clean_proxies.setenv("NO_PROXY", "127.0.0.1")
    stop = threading.Event()

    def churn() -> None:  # what pytest does to PYTEST_CURRENT_TEST around every test
        while not stop.is_set():
            os.environ["OPSVERIFY_TEST_CHURN"] = "call"
            os.environ.pop("OPSVERIFY_TEST_CHURN", None)

    churner = threading.Thread(target=churn, daemon=True)
    churner.start()
    try:
        for _ in range(3):
            with ProbeSession() as session:
                for _ in range(50):
                    assert session.get(f"{http_server.url}/", timeout=5).text == "ok"
    finally:
        stop.set()
        churner.join(5)


def test_the_environment_is_walked_once_per_session(
    http_server: LocalHTTPServer, clean_proxies: pytest.MonkeyPatch
) -> None:
    """The walk that races is urllib's getproxies_environment: under another thread's set/pop it raises
    KeyError about 1 call in 250 here. A plain requests session walks it on every request when no proxy
    variable is set (CI's case); ours once, when it is made."""
    http_server.routes["/"] = (200, {"Content-Type": "text/plain"}, b"ok")
    walks = []
    real = urllib.request.getproxies_environment

    def counted() -> dict[str, str]:
        walks.append(1)
        return real()

    clean_proxies.setattr(urllib.request, "getproxies_environment", counted)
    with ProbeSession() as session:
        for _ in range(10):
            session.get(f"{http_server.url}/", timeout=5)
    assert len(walks) == 1
