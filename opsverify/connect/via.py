"""The `via:` key: how a check reaches the machine it reads (local, ssh://user@host[:port], docker://name,
docker://compose/PROJECT/SERVICE)."""

from __future__ import annotations

import re
from typing import Annotated, Any, NamedTuple
from urllib.parse import unquote, urlsplit

from pydantic import BeforeValidator, Field, field_validator, model_validator

from opsverify.config.types import Duration, StrictModel
from opsverify.redaction import SECRETS

SCHEMES = "local, ssh://user@host[:port], docker://container or docker://compose/PROJECT/SERVICE"
_CONTAINER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_COMPOSE_PROJECT = re.compile(r"[a-z0-9][a-z0-9_-]*")  # compose's own rule for project names
COMPOSE_PREFIX = "compose/"


class ComposeService(NamedTuple):
    """`docker://compose/PROJECT/SERVICE`: the running container of a compose service, found by its labels."""

    project: str
    service: str


def compose_service(url: str) -> ComposeService | None:
    """The compose project and service of a `docker://compose/PROJECT/SERVICE` URL (None for another URL)."""
    scheme, _, rest = url.partition("://")
    if scheme.lower() != "docker" or not rest.startswith(COMPOSE_PREFIX):
        return None
    project, _, service = rest[len(COMPOSE_PREFIX) :].strip("/").partition("/")
    return ComposeService(project, service)


class Via(StrictModel):
    """Where a check runs its reads: `via: ssh://deploy@app1` or, with options, a mapping with `url:`."""

    url: str = Field(default="local", description=SCHEMES)
    identity: str | None = Field(
        default=None,
        description="SSH private key text: `identity_file: PATH` reads it from a file, `${SSH_KEY}` from the "
        "environment (else ssh-agent, ~/.ssh/id_*)",
    )
    passphrase: str | None = Field(default=None, description="of an encrypted identity (a secret)")
    known_hosts: str | None = Field(default=None, description="known_hosts file (default ~/.ssh/known_hosts)")
    insecure_skip_host_key: bool = Field(default=False, description="accept any SSH host key (not verified)")
    docker_host: str | None = Field(default=None, description="Docker engine URL (default DOCKER_HOST)")
    timeout: Duration = Field(default=10.0, gt=0, description="connecting and each file operation")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        value = value.strip()
        if value == "local":
            return value
        if "://" not in value:
            raise ValueError(f"expected {SCHEMES}, got {value!r}")
        scheme = value.split("://", 1)[0].lower()
        if scheme == "ssh":
            try:
                parts = urlsplit(value)
                port = parts.port
            except ValueError as exc:
                raise ValueError(
                    f"malformed ssh URL {mask(value)!r} ({exc}); write ssh://user@host[:port]"
                ) from None
            if parts.password:
                SECRETS.add_all([parts.password, unquote(parts.password)])
                raise ValueError(
                    f"the ssh URL {mask(value)!r} has a password: opsverify logs in with keys only; "
                    f"remove it and set identity_file: (or use ssh-agent)"
                )
            if not parts.hostname or parts.path not in ("", "/") or parts.query:
                raise ValueError(f"malformed ssh URL {value!r}; write ssh://user@host[:port]")
            if port is not None and not 0 < port < 65536:
                raise ValueError(f"malformed ssh URL {value!r}: port {port} is out of range")
            return value
        if scheme == "docker":
            compose = compose_service(value)
            if compose is not None:
                _check_compose(value, compose)
                return value
            name = value.split("://", 1)[1].strip("/")
            if not _CONTAINER.fullmatch(name):
                raise ValueError(f"malformed docker URL {value!r}; write docker://CONTAINER (a name or id)")
            return value
        raise ValueError(f"unknown via: scheme {scheme!r} in {value!r}; expected {SCHEMES}")

    @model_validator(mode="after")
    def _options_fit(self) -> Via:
        scheme = self.scheme
        if scheme != "ssh":
            for key in ("identity", "passphrase", "known_hosts"):
                if getattr(self, key) is not None:
                    raise ValueError(f"`{key}` is for ssh:// only; via: is {self.url!r}")
            if self.insecure_skip_host_key:
                raise ValueError(f"`insecure_skip_host_key` is for ssh:// only; via: is {self.url!r}")
        if scheme != "docker" and self.docker_host is not None:
            raise ValueError(f"`docker_host` is for docker:// only; via: is {self.url!r}")
        if self.identity:
            SECRETS.add(self.identity)
            if "PRIVATE KEY" not in self.identity:
                raise ValueError(
                    "`identity` is not a private key (no PRIVATE KEY block): give the key file with "
                    "`identity_file: ~/.ssh/opsverify_ed25519`, or the key's text with `identity: ${SSH_KEY}`"
                )
        if self.passphrase:
            SECRETS.add(self.passphrase)
        return self

    @property
    def scheme(self) -> str:
        return "local" if self.url == "local" else self.url.split("://", 1)[0].lower()

    @property
    def is_local(self) -> bool:
        return self.scheme == "local"

    def describe(self) -> str:
        """The machine without secrets: `deploy@app1:2222`, `container api`, `this machine`."""
        if self.scheme == "ssh":
            parts = urlsplit(self.url)
            port = "" if parts.port in (None, 22) else f":{parts.port}"
            return f"{parts.username + '@' if parts.username else ''}{parts.hostname}{port}"
        if self.scheme == "docker":
            compose = compose_service(self.url)
            if compose is not None:
                return f"compose service {compose.service} of project {compose.project}"
            return f"container {self.url.split('://', 1)[1].strip('/')}"
        return "this machine"


def _check_compose(url: str, compose: ComposeService) -> None:
    if not compose.project or not _CONTAINER.fullmatch(compose.service):
        raise ValueError(
            f"malformed docker URL {url!r}; write docker://compose/PROJECT/SERVICE (the compose project, as "
            f"`docker compose ls` lists it, and the service's name in the compose file)"
        )
    if not _COMPOSE_PROJECT.fullmatch(compose.project):
        raise ValueError(
            f"{compose.project!r} in {url!r} is not a compose project name: compose names projects in lowercase "
            f"letters, digits, '-' and '_' (see `docker compose ls`); write the name it lists"
        )


def mask(url: str) -> str:
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def _from_text(value: Any) -> Any:
    return {"url": value} if isinstance(value, str) else value


ViaKey = Annotated[Via, BeforeValidator(_from_text)]
"""`via: ssh://deploy@app1` or `via: {url: ssh://deploy@app1:2222, identity_file: keys/ops}` (read into `identity`)."""

LOCAL = Via()
