"""Settings models of the built-in notification channels (`slack:`, `email:`, `webhook:`, `apprise:`,
`python:` under `notify.channels.<name>`), and the helpers they share."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BeforeValidator, Field, field_validator, model_validator

from opsverify.config.types import Duration, StrictModel, TlsVerify
from opsverify.redaction import SECRETS

_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")
_NAMED_EMAIL = re.compile(r"^[^<>]*<(?P<address>[^@\s<>]+@[^@\s<>]+)>$")


def one_or_many(value: Any) -> Any:
    """Accept `x` where a list `[x]` is meant (`to: admin-mail`, `status: failed`)."""
    return [value] if isinstance(value, str) else value


def register_secret_url(url: str) -> None:
    """A URL that carries a token: mask it whole and its path/query too (errors may show only those)."""
    SECRETS.add(url)
    parts = urlsplit(url)
    tail = parts.path + (f"?{parts.query}" if parts.query else "")
    if len(tail.strip("/")) >= 8:
        SECRETS.add(tail)
        SECRETS.add(tail.strip("/"))
    if parts.password:
        SECRETS.add(parts.password)


def http_url(value: str) -> str:
    if not re.match(r"^https?://[^/\s]+", value):
        raise ValueError(f"expected an http:// or https:// URL, got {value!r}")
    return value


def _email_address(value: str) -> str:
    named = _NAMED_EMAIL.match(value)
    if not _EMAIL.match(named["address"] if named else value):
        raise ValueError(f"expected an e-mail address like ops@example.com, got {value!r}")
    return value


class ChannelSettings(StrictModel):
    """Keys every channel type accepts: how long one attempt may take and how often to retry."""

    timeout: Duration = Field(default=10.0, gt=0, description="seconds one delivery attempt may take")
    retries: int = Field(default=3, ge=0, le=10, description="retries on 429, 5xx and network errors")
    backoff: Duration = Field(default=1.0, ge=0, description="first retry delay; doubles each retry")

    def secret_values(self) -> list[str]:
        """Values to mask everywhere opsverify writes (URLs with tokens, passwords, keys)."""
        return []


class SlackSettings(ChannelSettings):
    """Slack incoming webhook."""

    webhook_url: str
    mention: str | None = Field(default=None, description="prefix of the failure text, e.g. <!here>")

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str) -> str:
        return http_url(value)

    def secret_values(self) -> list[str]:
        return [self.webhook_url]


class EmailSettings(ChannelSettings):
    """SMTP with STARTTLS (default) or implicit TLS (`ssl: true`), optional login."""

    host: str
    port: int | None = Field(default=None, ge=1, le=65535, description="default 587, or 465 with ssl")
    starttls: bool | None = None
    ssl: bool = False
    verify: TlsVerify = Field(default=True, description="verify the server certificate; or a CA file")
    username: str | None = None
    password: str | None = None
    from_: str = Field(alias="from")
    to: Annotated[list[str], BeforeValidator(one_or_many)] = Field(min_length=1)
    cc: Annotated[list[str], BeforeValidator(one_or_many)] = Field(default_factory=list)

    @field_validator("from_")
    @classmethod
    def _from_address(cls, value: str) -> str:
        return _email_address(value)

    @field_validator("to", "cc")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        return [_email_address(v) for v in value]

    @model_validator(mode="after")
    def _consistent(self) -> EmailSettings:
        if self.ssl and self.starttls:
            raise ValueError(
                "give `ssl: true` (implicit TLS, port 465) or `starttls: true` (port 587), not both"
            )
        if (self.username is None) != (self.password is None):
            raise ValueError("give both `username` and `password` for SMTP login, or neither")
        return self

    @property
    def use_starttls(self) -> bool:
        return (not self.ssl) if self.starttls is None else self.starttls

    @property
    def effective_port(self) -> int:
        return self.port or (465 if self.ssl else 587)

    def secret_values(self) -> list[str]:
        return [self.password] if self.password else []


class WebhookSettings(ChannelSettings):
    """JSON POST of the run summary; optional headers and an HMAC-SHA256 signature header."""

    url: str
    method: Literal["POST", "PUT"] = "POST"
    headers: dict[str, str] = Field(default_factory=dict)
    hmac_key: str | None = Field(default=None, min_length=8)
    hmac_header: str = "X-Opsverify-Signature"

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        return http_url(value)

    def secret_values(self) -> list[str]:
        return [self.url, *([self.hmac_key] if self.hmac_key else []), *self.headers.values()]


class AppriseSettings(ChannelSettings):
    """Any Apprise URL (Teams, PagerDuty, Discord, Telegram, ...): needs `pip install opsverify[apprise]`."""

    url: Annotated[list[str], BeforeValidator(one_or_many)] = Field(min_length=1)

    @field_validator("url")
    @classmethod
    def _scheme(cls, value: list[str]) -> list[str]:
        for item in value:
            if "://" not in item:
                raise ValueError(
                    f"expected an Apprise URL like msteams://... or tgram://TOKEN/CHAT, got {item[:12]!r}..."
                )
        return value

    def secret_values(self) -> list[str]:
        return list(self.url)


class PythonSettings(ChannelSettings):
    """A Python function of yours, `package.module:function`, called with the channel's message."""

    callable: str = Field(description="package.module:function, importable on the runner")
    retries: int = Field(default=0, ge=0, le=10, description="retries when it raises")

    @field_validator("callable")
    @classmethod
    def _reference(cls, value: str) -> str:
        module, colon, attribute = value.partition(":")
        if not colon or not module or not attribute:
            raise ValueError(f"expected `package.module:function`, got {value!r}")
        return value
