"""Where a seed's notifications go in tests: a real SMTP server (aiosmtpd) and a webhook receiver
(Slack-compatible: answers `ok`), both on 127.0.0.1, recording what they received."""

from __future__ import annotations

import email
import email.policy
import json
import warnings
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.conftest import free_port
from tests.seeds.replicas.web import ReplicaServer, Reply, Request

SMTP_USER = "alerts@seed.test"
SMTP_PASSWORD = "seed-smtp-password"


@dataclass
class Mailbox:
    """Messages the SMTP server accepted (after AUTH LOGIN/PLAIN with SMTP_USER / SMTP_PASSWORD)."""

    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.original_content, policy=email.policy.default))  # type: ignore[arg-type]
        return "250 Message accepted"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        if isinstance(data, LoginPassword) and (data.login.decode(), data.password.decode()) == (
            SMTP_USER,
            SMTP_PASSWORD,
        ):
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


class Receivers:
    """One SMTP server and one webhook server; `env()` gives the variables that point a seed at them."""

    def __init__(self) -> None:
        self.mailbox = Mailbox()
        self.smtp_port = free_port()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # aiosmtpd warns that AUTH without TLS is unsafe: a test server
            self.smtp = Controller(
                self.mailbox,
                hostname="127.0.0.1",
                port=self.smtp_port,
                authenticator=self.mailbox.authenticate,
                auth_require_tls=False,
            )
            self.smtp.start()
        self.web = ReplicaServer({"*": self._hook})
        self.posts: list[Request] = []

    def _hook(self, request: Request) -> Reply:
        self.posts.append(request)
        return Reply(200, b"ok")

    def hook_url(self, name: str) -> str:
        return f"{self.web.url}/hooks/{name}/T0SEED/B0SEED/replica-secret"

    def clear(self) -> None:
        self.mailbox.messages.clear()
        self.posts.clear()

    def mail_to(self) -> list[str]:
        return [str(message["To"]) for message in self.mailbox.messages]

    def hooks_called(self) -> list[str]:
        """Names of the webhooks that received a POST, in order (the `name` of hook_url)."""
        return [post.path.split("/")[2] for post in self.posts if post.method in ("POST", "PUT")]

    def hook_json(self, name: str) -> list[Any]:
        return [json.loads(p.body) for p in self.posts if p.path.split("/")[2] == name]

    def stop(self) -> None:
        self.smtp.stop()
        self.web.stop()
