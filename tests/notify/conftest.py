"""Real receivers for notification tests: an SMTP server (aiosmtpd) and helpers for webhook receivers.

Webhook receivers are tests/conftest.py's LocalHTTPServer (`http_server`); Slack's answers body `ok`.
"""

from __future__ import annotations

import datetime
import email
import email.policy
import ipaddress
import ssl
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from opsverify.report.summary import CheckResult
from tests.conftest import free_port

SMTP_USER = "alerts"
SMTP_PASSWORD = "smtp-pass-1234"


def result(name: str, status: str = "failed", **kwargs: Any) -> CheckResult:
    """A CheckResult for unit tests (kind http, target prod, tier smoke unless given)."""
    values: dict[str, Any] = {
        "target": "prod",
        "kind": "http",
        "name": name,
        "tiers": ("smoke",),
        "severity": "normal",
        "status": status,
        "reason": f"{name}: status: expected 200, got 503" if status == "failed" else "",
    }
    values.update(kwargs)
    return CheckResult(**values)


@dataclass
class SMTPCapture:
    """What the SMTP server received: parsed messages and envelopes, and the logins it saw."""

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[Any] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    port: int = 0
    password: str = SMTP_PASSWORD

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        self.messages.append(
            email.message_from_bytes(envelope.original_content, policy=email.policy.default)  # type: ignore[arg-type]
        )
        return "250 Message accepted"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        if isinstance(data, LoginPassword):
            login, password = data.login.decode(), data.password.decode()
            self.logins.append((login, password))
            if (login, password) == (SMTP_USER, self.password):
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


def _start(capture: SMTPCapture, **kwargs: Any) -> Controller:
    capture.port = free_port()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # aiosmtpd warns that AUTH without TLS is unsafe: it is a test server
        controller = Controller(
            capture,
            hostname="127.0.0.1",
            port=capture.port,
            authenticator=capture.authenticate,
            **kwargs,
        )
        controller.start()
    return controller


@pytest.fixture
def smtp_server() -> Iterator[SMTPCapture]:
    """A plain SMTP server on 127.0.0.1 with AUTH LOGIN/PLAIN (user `alerts`, password SMTP_PASSWORD)."""
    capture = SMTPCapture()
    controller = _start(capture, auth_require_tls=False)
    yield capture
    controller.stop()


@dataclass
class TLSFiles:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    """A self-signed certificate for 127.0.0.1 (the client verifies it with `verify: <cert file>`)."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    files = TLSFiles(folder / "cert.pem", folder / "key.pem")
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return files


@pytest.fixture
def starttls_smtp_server(tls_files: TLSFiles) -> Iterator[SMTPCapture]:
    """An SMTP server that requires STARTTLS before AUTH and mail."""
    capture = SMTPCapture()
    controller = _start(capture, tls_context=tls_files.server_context(), require_starttls=True)
    yield capture
    controller.stop()


def sequence(*responses: tuple[int, dict[str, str], bytes]) -> Callable[[BaseHTTPRequestHandler], Any]:
    """A route handler answering with `responses` in turn (the last one repeats)."""
    remaining = list(responses)

    def handler(_: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        return remaining.pop(0) if len(remaining) > 1 else remaining[0]

    return handler


SLACK_OK = (200, {"Content-Type": "text/plain"}, b"ok")
