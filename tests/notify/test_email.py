"""E-mail over a real SMTP server (aiosmtpd): login, STARTTLS, multipart text + HTML, subject, errors."""

from __future__ import annotations

import pytest

from opsverify.config.notify import EmailSettings
from opsverify.notify.base import DeliveryError, RetryableError
from opsverify.notify.email import EmailChannel
from opsverify.notify.message import Message
from tests.conftest import refused_port
from tests.notify.conftest import SMTP_PASSWORD, SMTP_USER, result


def message() -> Message:
    return Message(
        status="failed",
        target="cleaning-prod",
        tiers=("smoke",),
        route="routes[0]",
        failures=[result("api-health", reason="status: expected 200, got 503"), result("db")],
        new=frozenset({"http:api-health"}),
        counts={"total": 14, "passed": 12, "failed": 2, "skipped": 0},
        run_id="run-7",
        duration=3.2,
    )


def settings(port: int, **extra: object) -> EmailSettings:
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": port,
        "starttls": False,
        "username": SMTP_USER,
        "password": SMTP_PASSWORD,
        "from": "opsverify <noreply@example.com>",
        "to": ["ops@example.com"],
        "cc": "lead@example.com",
        "timeout": 5,
        **extra,
    }
    return EmailSettings.model_validate(values)


def test_sends_multipart_text_and_html_with_login(smtp_server) -> None:
    EmailChannel("admin-mail", settings(smtp_server.port)).send(message())
    (mail,) = smtp_server.messages
    assert mail["Subject"] == "[FAILED] cleaning-prod smoke: 2 of 14 checks failed"
    assert mail["To"] == "ops@example.com"
    assert mail["Cc"] == "lead@example.com"
    assert smtp_server.envelopes[0].rcpt_tos == ["ops@example.com", "lead@example.com"]
    assert smtp_server.logins == [(SMTP_USER, SMTP_PASSWORD)]
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "✗ http:api-health (normal, new): status: expected 200, got 503" in text
    assert "<b>http:api-health</b>" in html
    assert "status: expected 200, got 503" in html


def test_starttls_with_the_servers_ca(starttls_smtp_server, tls_files) -> None:
    channel = EmailChannel(
        "admin-mail", settings(starttls_smtp_server.port, starttls=True, verify=str(tls_files.cert))
    )
    channel.send(message())
    assert len(starttls_smtp_server.messages) == 1
    assert starttls_smtp_server.logins == [(SMTP_USER, SMTP_PASSWORD)]


def test_untrusted_certificate_is_a_permanent_error(starttls_smtp_server) -> None:
    channel = EmailChannel("admin-mail", settings(starttls_smtp_server.port, starttls=True))
    with pytest.raises(DeliveryError, match=r"TLS error with SMTP server 127\.0\.0\.1") as caught:
        channel.send(message())
    assert not isinstance(caught.value, RetryableError)


def test_wrong_password_is_refused_without_showing_it(smtp_server) -> None:
    channel = EmailChannel("admin-mail", settings(smtp_server.port, password="wrong-password"))
    with pytest.raises(DeliveryError, match="refused the login") as caught:
        channel.send(message())
    assert "wrong-password" not in str(caught.value)
    assert smtp_server.messages == []


def test_server_down_is_retryable() -> None:
    with pytest.raises(RetryableError, match="connection refused"):
        EmailChannel("admin-mail", settings(refused_port())).send(message())


def test_ssl_and_starttls_together_are_a_config_error() -> None:
    with pytest.raises(ValueError, match="not both"):
        settings(465, ssl=True, starttls=True)
    assert settings(465, ssl=True).use_starttls is False
    assert EmailSettings.model_validate({"host": "h", "from": "a@b.c", "to": "d@e.f"}).effective_port == 587
