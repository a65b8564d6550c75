"""Connection and TLS failures read like sentences, from every caller of opsverify.netmessages, on real sockets:
a plain HTTP server asked for TLS, a port that closes at once, one that sends garbage, a refused port, a
self-signed certificate, a TLS port asked for plain HTTP, a full accept queue (connect timeout)."""

from __future__ import annotations

import contextlib
import re
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from opsverify.kinds.base import ProbeContext
from opsverify.kinds.http import probe as http
from opsverify.kinds.http.model import HttpCheck
from opsverify.kinds.metrics import probe as metrics
from opsverify.kinds.metrics.model import MetricsCheck
from opsverify.kinds.prometheus import probe as prometheus
from opsverify.kinds.prometheus.model import PrometheusCheck
from opsverify.kinds.tls import probe as tls
from opsverify.kinds.tls.model import TlsCheck
from opsverify.netmessages import Endpoint, describe
from opsverify.notify.base import DeliveryError, RetryableError
from opsverify.notify.httpsend import http_send
from tests.conftest import LocalHTTPServer, json_response, refused_port
from tests.probes.conftest import TLSServer, make_certificate

CTX = ProbeContext("test")
# What must never reach an operator: urllib3 wrappers, OpenSSL codes and source lines, errno numbers, reprs.
RAW = re.compile(
    r"Max retries|ConnectionPool|Caused by|_ssl\.c|\[SSL|Errno|[A-Z]{3,}_[A-Z_]{3,}|\w(Error|Exception)\(|\d{3,}"
)


def assert_readable(message: str | None, port: int) -> str:
    assert message, "no error message"
    text = message.replace(f"127.0.0.1:{port}", "HOST").replace(f"port {port}", "port N")
    text = text.replace("REQUESTS_CA_BUNDLE", "an environment variable")
    assert not RAW.search(text), message
    return message


# --- one function per caller: the error text it produces for a URL (or host:port for tls) --------------


def via_http(url: str, timeout: float = 2) -> str | None:
    return http.probe(HttpCheck(url=url, timeout=timeout), CTX).error


def via_metrics(url: str, timeout: float = 2) -> str | None:
    entry = MetricsCheck.model_validate(
        {"url": url, "timeout": timeout, "rules": {"up": {"metric": "up", "min": 1}}}
    )
    return metrics.probe(entry, CTX).error


def via_prometheus(url: str, timeout: float = 2) -> str | None:
    entry = PrometheusCheck.model_validate(
        {"url": url, "timeout": timeout, "rules": {"up": {"expr": "up", "min": 1}}}
    )
    return prometheus.probe(entry, CTX).error


def via_notify(url: str, timeout: float = 2) -> str | None:
    try:
        http_send(url, b"{}", {"Content-Type": "application/json"}, timeout)
    except (DeliveryError, RetryableError) as exc:
        return str(exc)
    return None


def via_tls(port: int, timeout: float = 2) -> str | None:
    return tls.probe(TlsCheck(host="127.0.0.1", port=port, timeout=timeout), CTX).error


URL_CALLERS: dict[str, Callable[..., str | None]] = {
    "http": via_http,
    "metrics": via_metrics,
    "prometheus": via_prometheus,
    "notify": via_notify,
}


# --- servers ---------------------------------------------------------------------------------------------


def tcp_server(answer: Callable[[socket.socket], None]) -> Iterator[int]:
    """A TCP server on 127.0.0.1 that runs `answer` on each connection, then closes it."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn, contextlib.suppress(OSError):
                answer(conn)

    threading.Thread(target=serve, daemon=True).start()
    yield int(listener.getsockname()[1])
    stop.set()
    listener.close()


@pytest.fixture
def closes_at_once() -> Iterator[int]:
    yield from tcp_server(lambda conn: None)


@pytest.fixture
def ssh_banner() -> Iterator[int]:
    yield from tcp_server(lambda conn: conn.sendall(b"SSH-2.0-OpenSSH_9.2p1\r\n" + bytes(range(256))))


@pytest.fixture
def binary_garbage() -> Iterator[int]:
    yield from tcp_server(lambda conn: conn.sendall(bytes(range(1, 32)) * 8))


@pytest.fixture
def plain_http(http_server: LocalHTTPServer) -> LocalHTTPServer:
    http_server.routes["*"] = json_response({"ok": True})
    return http_server


@pytest.fixture
def self_signed(tmp_path: Path) -> Iterator[TLSServer]:
    server = TLSServer(make_certificate("localhost", ["localhost", "127.0.0.1"]), tmp_path, "self-signed")
    yield server
    server.stop()


# --- the cases -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("caller", ["http", "metrics", "prometheus"])
def test_https_against_plain_http_says_so(plain_http: LocalHTTPServer, caller: str) -> None:
    message = URL_CALLERS[caller](f"https://127.0.0.1:{plain_http.port}/metrics")
    assert (
        message == f"127.0.0.1:{plain_http.port} answered in plain HTTP, not TLS: use http:// or the TLS port"
    )
    assert_readable(message, plain_http.port)


def test_notification_to_https_on_a_plain_http_port(plain_http: LocalHTTPServer) -> None:
    message = assert_readable(via_notify(f"https://127.0.0.1:{plain_http.port}/hook/s3cret"), plain_http.port)
    assert message.startswith(f"127.0.0.1:{plain_http.port} answered in plain HTTP, not TLS: use http://")
    assert "s3cret" not in message


def test_tls_kind_against_plain_http(plain_http: LocalHTTPServer) -> None:
    message = assert_readable(via_tls(plain_http.port), plain_http.port)
    assert message.startswith(f"127.0.0.1:{plain_http.port} answered in plain HTTP, not TLS: set `port:`")


def test_newer_openssl_wording_is_translated_too(plain_http: LocalHTTPServer) -> None:
    """OpenSSL 3.2+ reports a plain-HTTP answer as `record layer failure`; the message is the same."""
    error = ssl.SSLError(1, "[SSL: RECORD_LAYER_FAILURE] record layer failure (_ssl.c:1006)")
    error.reason = "RECORD_LAYER_FAILURE"
    wrapped = requests.exceptions.SSLError(error)
    message = describe(wrapped, Endpoint.from_url(f"https://127.0.0.1:{plain_http.port}/", 2))
    assert (
        message == f"127.0.0.1:{plain_http.port} answered in plain HTTP, not TLS: use http:// or the TLS port"
    )


def test_port_that_closes_at_once(closes_at_once: int) -> None:
    port = closes_at_once
    for message in (via_http(f"https://127.0.0.1:{port}/"), via_tls(port)):
        assert_readable(message, port)
        assert f"127.0.0.1:{port} closed the connection without a TLS handshake" in (message or "")
    message = assert_readable(via_http(f"http://127.0.0.1:{port}/"), port)
    assert message.startswith(f"127.0.0.1:{port} closed the connection without answering the request")


def test_port_that_speaks_another_protocol(ssh_banner: int, binary_garbage: int) -> None:
    port = ssh_banner
    for message in (
        via_http(f"https://127.0.0.1:{port}/"),
        via_tls(port),
        via_notify(f"https://127.0.0.1:{port}/"),
    ):
        assert_readable(message, port)
        assert f"127.0.0.1:{port} is not a TLS port: it answered 'SSH-2.0-OpenSSH_9.2p1'" in (message or "")
    message = assert_readable(via_http(f"http://127.0.0.1:{port}/"), port)
    assert message.startswith(f"127.0.0.1:{port} did not answer in HTTP: it answered 'SSH-2.0-OpenSSH_9.2p1'")
    message = assert_readable(via_tls(binary_garbage), binary_garbage)
    assert f"127.0.0.1:{binary_garbage} is not a TLS port: it answered" in message
    assert "it answered with binary data" in message


def test_refused_port_everywhere() -> None:
    port = refused_port()
    for name, caller in URL_CALLERS.items():
        for scheme in ("http", "https"):
            message = assert_readable(caller(f"{scheme}://127.0.0.1:{port}/x"), port)
            service = "the receiver" if name == "notify" else "the service"
            assert (
                message
                == f"connection refused by 127.0.0.1:{port} (target unreachable: is {service} running?)"
            )
    assert (
        via_tls(port)
        == f"connection refused by 127.0.0.1:{port} (target unreachable: is the service running?)"
    )


def test_self_signed_certificate(self_signed: TLSServer) -> None:
    port = self_signed.port
    for caller in (via_http, via_metrics, via_prometheus):
        message = assert_readable(caller(f"https://127.0.0.1:{port}/metrics"), port)
        assert message == (
            f"TLS error talking to 127.0.0.1:{port}: certificate verify failed: self-signed certificate "
            "(set `verify:` to a CA bundle path, or `verify: false` to skip verification)"
        )
    message = assert_readable(via_notify(f"https://127.0.0.1:{port}/hook"), port)
    assert message.startswith(
        f"TLS error talking to 127.0.0.1:{port}: certificate verify failed: self-signed"
    )
    assert "REQUESTS_CA_BUNDLE" in message


def test_plain_http_against_a_tls_port(self_signed: TLSServer) -> None:
    port = self_signed.port
    for caller in (via_http, via_notify):
        message = assert_readable(caller(f"http://127.0.0.1:{port}/"), port)
        assert message == f"127.0.0.1:{port} speaks TLS, not plain HTTP: use https://"


def test_timeouts_say_what_timed_out() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = int(listener.getsockname()[1])
        with socket.create_connection(("127.0.0.1", port)):  # the accept queue is full now
            for message in (via_http(f"https://127.0.0.1:{port}/", 0.3), via_tls(port, 0.3)):
                assert message == (
                    f"timed out after 0.3s connecting to 127.0.0.1:{port} (is the host up, and does a "
                    f"firewall let port {port} through?)"
                )
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, then says nothing
        port = int(silent.getsockname()[1])
        assert (
            via_http(f"http://127.0.0.1:{port}/", 0.3)
            == f"no response from 127.0.0.1:{port} within 0.3s (timeout)"
        )
        assert via_tls(port, 0.3) == f"no TLS handshake with 127.0.0.1:{port} within 0.3s (timeout)"
