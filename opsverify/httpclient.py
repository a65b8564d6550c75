"""The HTTP session of opsverify: one type for the probes (http, prometheus, metrics) and the checks' `http`
fixture, and the settings the async driver (`opsverify.kinds.http.aio`) reads too.

`HttpSettings` is what every request of a session agrees on: the user agent, a default timeout, the TLS
settings (the CA bundle of REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE), the proxies (`*_proxy`, `no_proxy`), the
pool size, and credentials (a bearer token, basic auth, secret headers), which are registered for redaction
when the settings are made. `settings.session()` gives a `ProbeSession` (requests); the aio driver asks the
same settings for the user agent, the proxy of a URL and the CA bundle.

Settings read the environment once, when they are made, never on a request. A plain `requests.Session` looks
up the proxy variables on every request through urllib's `getproxies_environment`, which walks `os.environ`
key by key. pytest sets and deletes PYTEST_CURRENT_TEST around every test while the live probes run in
other threads, and a walk that meets the deleted key raises `KeyError: 'PYTEST_CURRENT_TEST'` inside the
probe (seen in CI under load). `ProbeSession` applies the settings' proxies and CA bundle as requests would
apply the environment's; `.netrc` still supplies credentials when none are given.
"""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
import requests.adapters
from requests.utils import get_netrc_auth

from opsverify.redaction import SECRETS, is_secret_header

USER_AGENT = "opsverify (+https://github.com/opsverify/opsverify)"
POOL_SIZE = requests.adapters.DEFAULT_POOLSIZE  # connections kept per host (requests' default, 10)


def environment_proxies() -> dict[str, str]:
    """The proxies of the environment as urllib reads them (`no` holds no_proxy); read again when another
    thread deleted a variable meanwhile."""
    for _ in range(50):
        try:
            return urllib.request.getproxies_environment()
        except (KeyError, RuntimeError):  # a variable deleted, or the mapping changed size, during the walk
            continue
    return {}


def environment_ca_bundle() -> str | None:
    """The CA bundle requests verifies against when the environment names one (else certifi's)."""
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")


# urllib's no_proxy matcher (undocumented, so not in the type stubs); given the proxies, it reads no variable
_bypass: Callable[[str, dict[str, str]], bool] = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]


def routed_proxies(url: str, proxies: dict[str, str]) -> dict[str, str]:
    """The environment's proxies (by scheme) unless NO_PROXY exempts `url`'s host; {} then, or without any."""
    host = urlsplit(url).hostname or ""
    if not proxies or _bypass(host, proxies):
        return {}
    return {scheme: proxy for scheme, proxy in proxies.items() if scheme != "no"}


def proxies_for(url: str, proxies: dict[str, str]) -> dict[str, str]:
    """The proxies a request to `url` goes through, given the environment's; {} for a direct one."""
    chosen = routed_proxies(url, proxies)
    return chosen if urlsplit(url).scheme in chosen or "all" in chosen else {}


@dataclass(frozen=True)
class HttpSettings:
    """What every request of a session agrees on (see the module's text); the environment is read when made."""

    user_agent: str | None = (
        USER_AGENT  # None: requests' own (python-requests/x.y), as the `http` fixture sends
    )
    timeout: float | None = None  # for a call that gives none (the `http` fixture: 10 s); probes give theirs
    headers: Mapping[str, str] = field(default_factory=dict)
    bearer: str | None = None
    basic: tuple[str, str] | None = None
    proxies: dict[str, str] = field(default_factory=environment_proxies)
    ca_bundle: str | None = field(default_factory=environment_ca_bundle)
    pool_size: int = POOL_SIZE

    def __post_init__(self) -> None:
        register_credentials(self.basic, self.headers)
        SECRETS.add(self.bearer)

    def default_headers(self) -> dict[str, str]:
        """The user agent, the configured headers and the bearer token, as every request sends them."""
        headers = {} if self.user_agent is None else {"User-Agent": self.user_agent}
        headers.update(self.headers)
        if self.bearer is not None:
            headers["Authorization"] = f"Bearer {self.bearer}"
        return headers

    def proxies_for(self, url: str) -> dict[str, str]:
        """The proxies a request to `url` goes through; {} for a direct one."""
        return proxies_for(url, self.proxies)

    def verify(self, verify: bool | str | None) -> bool | str | None:
        """What a request verifies TLS against: the CA bundle of the environment for `True`, else `verify`."""
        return (self.ca_bundle or verify) if verify is True or verify is None else verify

    def session(self) -> ProbeSession:
        return ProbeSession(self)


def register_credentials(auth: Any, headers: Mapping[str, str]) -> None:
    """Register a basic-auth password and the values of credential headers (Authorization, X-Api-Key ...)
    with the redaction registry, so no output shows them."""
    if isinstance(auth, tuple) and len(auth) == 2:
        SECRETS.add(auth[1])
    for name, value in headers.items():
        if is_secret_header(str(name)):
            SECRETS.add(value)


class ProbeSession(requests.Session):
    """A requests session made from `HttpSettings` (the environment's, when none are given): it never walks
    `os.environ` after it is made (see the module's text)."""

    def __init__(self, settings: HttpSettings | None = None) -> None:
        super().__init__()
        self.settings = settings = settings or HttpSettings()
        self.trust_env = False
        if settings.pool_size != POOL_SIZE:
            adapter = requests.adapters.HTTPAdapter(
                pool_connections=settings.pool_size, pool_maxsize=settings.pool_size
            )
            self.mount("https://", adapter)
            self.mount("http://", adapter)
        self.headers.update(settings.default_headers())
        if settings.basic is not None:
            self.auth = settings.basic

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        if self.settings.timeout is not None:
            kwargs.setdefault("timeout", self.settings.timeout)
        return super().request(method, url, *args, **kwargs)

    def merge_environment_settings(
        self, url: str | bytes | None, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> Any:
        text = url.decode() if isinstance(url, bytes) else (url or "")
        proxies = {**routed_proxies(text, self.settings.proxies), **(proxies or {})}
        return super().merge_environment_settings(url, proxies, stream, self.settings.verify(verify), cert)

    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        if request.auth is None and self.auth is None and request.url:
            request.auth = get_netrc_auth(request.url)
        register_credentials(request.auth or self.auth, request.headers or {})
        return super().prepare_request(request)
