"""E-mail over SMTP: STARTTLS (default) or implicit TLS, optional login, multipart text + HTML."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from opsverify.config.notify import EmailSettings
from opsverify.notify.base import Channel, DeliveryError, RetryableError
from opsverify.notify.message import Message
from opsverify.redaction import redact


def build_email(message: Message, settings: EmailSettings) -> EmailMessage:
    """The multipart/alternative e-mail: subject = the headline, text and HTML parts."""
    mail = EmailMessage()
    mail["Subject"] = message.headline
    mail["From"] = settings.from_
    mail["To"] = ", ".join(settings.to)
    if settings.cc:
        mail["Cc"] = ", ".join(settings.cc)
    mail["Date"] = formatdate(localtime=True)
    mail["Message-ID"] = make_msgid(domain=parseaddr(settings.from_)[1].rpartition("@")[2] or None)
    mail["X-Opsverify-Run"] = message.run_id
    mail.set_content(message.text())
    mail.add_alternative(message.html(), subtype="html")
    return mail


def tls_context(verify: bool | str) -> ssl.SSLContext:
    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    return ssl.create_default_context(cafile=verify if isinstance(verify, str) else None)


class EmailChannel(Channel[EmailSettings]):
    """Sends through the configured SMTP server; 4xx replies and network errors are retried."""

    type_name = "email"

    def send(self, message: Message) -> None:
        settings = self.settings
        mail = build_email(message, settings)
        where = f"{settings.host}:{settings.effective_port}"
        try:
            smtp = self._connect()
            with smtp:
                if settings.use_starttls:
                    smtp.starttls(context=tls_context(settings.verify))
                if settings.username is not None and settings.password is not None:
                    smtp.login(settings.username, settings.password)
                smtp.send_message(mail, to_addrs=[*settings.to, *settings.cc])
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(
                f"SMTP server {where} refused the login ({exc.smtp_code}); check username and password"
            ) from None
        except smtplib.SMTPNotSupportedError:
            raise DeliveryError(
                f"SMTP server {where} does not offer STARTTLS or AUTH; set `starttls: false` or `ssl: true` "
                "to match the server"
            ) from None
        except smtplib.SMTPRecipientsRefused as exc:
            refused = ", ".join(sorted(exc.recipients))
            raise DeliveryError(f"SMTP server {where} refused the recipients {refused}") from None
        except smtplib.SMTPResponseException as exc:
            text = redact(
                exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else ""
            )
            error = f"SMTP server {where} answered {exc.smtp_code} {text[:200]}".rstrip()
            if 400 <= exc.smtp_code < 500:
                raise RetryableError(error) from None
            raise DeliveryError(error) from None
        except ssl.SSLError as exc:
            raise DeliveryError(
                f"TLS error with SMTP server {where}: {exc.reason or type(exc).__name__} "
                "(set `verify:` to a CA file, or check ssl/starttls)"
            ) from None
        except TimeoutError:
            raise RetryableError(f"SMTP server {where} did not answer within {settings.timeout:g}s") from None
        except smtplib.SMTPServerDisconnected:
            raise RetryableError(f"SMTP server {where} closed the connection") from None
        except ConnectionRefusedError:
            raise RetryableError(f"cannot connect to SMTP server {where}: connection refused") from None
        except OSError as exc:
            raise RetryableError(
                f"cannot connect to SMTP server {where}: {exc.strerror or type(exc).__name__}"
            ) from None

    def _connect(self) -> smtplib.SMTP:
        settings = self.settings
        if settings.ssl:
            return smtplib.SMTP_SSL(
                settings.host,
                settings.effective_port,
                timeout=settings.timeout,
                context=tls_context(settings.verify),
            )
        return smtplib.SMTP(settings.host, settings.effective_port, timeout=settings.timeout)

    def preview(self, message: Message) -> str:
        mail = build_email(message, self.settings)
        head = f"To: {mail['To']}\nSubject: {mail['Subject']}\n"
        return redact(f"{head}\n{message.text()}")
