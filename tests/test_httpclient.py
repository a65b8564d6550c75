"""ProbeSession: the environment's proxy settings taken once when the session is made, and no walk of
os.environ per request — a walk that raced pytest's PYTEST_CURRENT_TEST updates raised KeyError in probes.
HttpSettings: one session type for the probes and the `http` fixture (user agent, timeout, credentials
masked, CA bundle, pool size)."""

from __future__ import annotations

import os
import socket
import threading
import urllib.request

import pytest
import requests
import requests.adapters

from opsverify.httpclient import USER_AGENT, HttpSettings, ProbeSession
from opsverify.redaction import redact
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


def test_one_session_type_for_probes_and_the_http_fixture(
    http_server: LocalHTTPServer, clean_proxies: pytest.MonkeyPatch
) -> None:
    """The probes' settings send opsverify's user agent, the entry's headers and credentials; the fixture's
    send requests' own user agent and give every call a default timeout. Both are `ProbeSession`s."""
    http_server.routes["/"] = (200, {"Content-Type": "text/plain"}, b"ok")
    probe = HttpSettings(headers={"X-Team": "ops"}, bearer="probe-token-4711")
    with probe.session() as session:
        session.get(f"{http_server.url}/", timeout=5)
    with HttpSettings(user_agent=None, timeout=5).session() as fixture:
        assert isinstance(fixture, ProbeSession)
        fixture.get(f"{http_server.url}/")
    sent, plain = (request["headers"] for request in http_server.requests)
    assert sent["User-Agent"] == USER_AGENT
    assert sent["X-Team"] == "ops"
    assert sent["Authorization"] == "Bearer probe-token-4711"
    assert plain["User-Agent"].startswith("python-requests/")
    assert "Authorization" not in plain


def test_a_call_without_a_timeout_gets_the_settings_one(clean_proxies: pytest.MonkeyPatch) -> None:
    """A server that accepts and never answers: the call ends with a read timeout, not never."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/"
        with HttpSettings(timeout=0.2).session() as session, pytest.raises(requests.exceptions.ReadTimeout):
            session.get(url)


def test_credentials_are_registered_for_redaction(
    http_server: LocalHTTPServer, clean_proxies: pytest.MonkeyPatch
) -> None:
    http_server.routes["/"] = (200, {"Content-Type": "text/plain"}, b"ok")
    HttpSettings(
        basic=("ops", "basic-pw-5531"), headers={"X-Api-Key": "api-key-8812", "X-Team": "team-ops-1"}
    )
    with HttpSettings(user_agent=None, timeout=5).session() as session:  # as a check's own call would
        session.get(f"{http_server.url}/", auth=("ops", "fixture-pw-2290"))
    text = redact("basic-pw-5531 api-key-8812 fixture-pw-2290 team-ops-1")
    assert text == "*** *** *** team-ops-1"


def test_settings_take_the_ca_bundle_and_pool_size(clean_proxies: pytest.MonkeyPatch) -> None:
    clean_proxies.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    settings = HttpSettings(pool_size=3)
    clean_proxies.delenv("REQUESTS_CA_BUNDLE")
    assert settings.verify(True) == "/etc/ssl/certs/ca-certificates.crt"  # read when made
    assert settings.verify(False) is False
    assert settings.verify("/srv/ca.pem") == "/srv/ca.pem"
    with settings.session() as session:
        adapter = session.get_adapter("https://example.com/")
        assert isinstance(adapter, requests.adapters.HTTPAdapter)
        assert adapter._pool_maxsize == 3  # type: ignore[attr-defined]
