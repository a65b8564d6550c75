"""The tcp probe against real sockets: a listener, a banner, a refused port, a bad regex, end to end."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

from opsverify.kinds.base import ProbeContext
from opsverify.kinds.tcp.model import TcpCheck
from opsverify.kinds.tcp.probe import probe
from opsverify.kinds.tcp.verdict import judge
from tests.conftest import refused_port


def check(port: int, **keys: Any) -> list[str]:
    entry = TcpCheck.model_validate({"host": "127.0.0.1", "port": port, "timeout": 2, **keys})
    return [problem.text for problem in judge(entry, probe(entry, ProbeContext("t"))).problems]


def banner_server(banner: bytes) -> tuple[socket.socket, threading.Thread]:
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        try:
            connection, _ = server.accept()
        except OSError:
            return
        with connection:
            connection.sendall(banner)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return server, thread


def test_a_listening_port_passes_and_a_refused_one_fails() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        assert check(server.getsockname()[1]) == []
    port = refused_port()
    assert check(port) == [
        f"connection refused by 127.0.0.1:{port} (nothing listens there: is the service running?)"
    ]


def test_banner() -> None:
    server, thread = banner_server(b"220 mail ESMTP ready\r\n")
    with server:
        assert check(server.getsockname()[1], banner="^220 ") == []
        thread.join(5)
    server, thread = banner_server(b"HTTP/1.1 400\r\n")
    with server:
        (problem,) = check(server.getsockname()[1], banner="^SSH-2.0")
        thread.join(5)
    assert problem.startswith("banner: expected a line matching /^SSH-2.0/, got 'HTTP/1.1 400'")


def test_silent_server_has_no_banner() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        assert check(server.getsockname()[1], banner="^220", banner_timeout=0.3) == [
            "banner: expected a line matching /^220/, got no banner within 0.3s"
        ]


def test_bad_regex_is_refused() -> None:
    with pytest.raises(ValidationError, match="invalid regex"):
        TcpCheck.model_validate({"host": "h", "port": 1, "banner": "("})


def test_end_to_end(run_checks: Callable[..., Any]) -> None:
    port = refused_port()
    with socket.create_server(("127.0.0.1", 0)) as server:
        result = run_checks(
            f"target: t\ntcp:\n  pg:\n    host: 127.0.0.1\n    port: {server.getsockname()[1]}\n"
            f"  gone:\n    host: 127.0.0.1\n    port: {port}\n",
            "-m",
            "smoke",
        )
    assert result.returncode == 1, result.output
    assert "1 failed, 1 passed" in result.output
    assert f"connection refused by 127.0.0.1:{port}" in result.output
    bad = run_checks("target: t\ntcp:\n  pg:\n    host: 127.0.0.1\n    port: 70000\n")
    assert bad.returncode == 4, bad.output
    assert "port" in bad.output
