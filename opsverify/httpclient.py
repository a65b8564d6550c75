"""requests sessions that read the environment once, when they are made, not on every request.

A plain `requests.Session` looks up the proxy variables on every request through urllib's
`getproxies_environment`, which walks `os.environ` key by key. pytest sets and deletes PYTEST_CURRENT_TEST around
every test while the live probes run in other threads, and a walk that meets the deleted key raises
`KeyError: 'PYTEST_CURRENT_TEST'` inside the probe (seen in CI under load). `ProbeSession` takes the proxy
settings (`*_proxy`, `no_proxy`) and the CA bundle (`REQUESTS_CA_BUNDLE`, `CURL_CA_BUNDLE`) when it is made and
applies them as requests would; `.netrc` still supplies credentials when none are given.
"""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.utils import get_netrc_auth


def environment_proxies() -> dict[str, str]:
    """The proxies of the environment as urllib reads them (`no` holds no_proxy); read again when another
    thread deleted a variable meanwhile."""
    for _ in range(50):
        try:
            return urllib.request.getproxies_environment()
        except (KeyError, RuntimeError):  # a variable deleted, or the mapping changed size, during the walk
            continue
    return {}


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


class ProbeSession(requests.Session):
    """A session that never walks `os.environ` after it is made (see the module's text)."""

    def __init__(self) -> None:
        super().__init__()
        self.trust_env = False
        self._proxies = environment_proxies()
        self._ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")

    def merge_environment_settings(
        self, url: str | bytes | None, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> Any:
        text = url.decode() if isinstance(url, bytes) else (url or "")
        proxies = {**routed_proxies(text, self._proxies), **(proxies or {})}
        if verify is True or verify is None:
            verify = self._ca_bundle or verify
        return super().merge_environment_settings(url, proxies, stream, verify, cert)

    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        if request.auth is None and self.auth is None and request.url:
            request.auth = get_netrc_auth(request.url)
        return super().prepare_request(request)
