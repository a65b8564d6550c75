"""The `http` fixture's session: requests with a default timeout (imported only when a check asks for it)."""

from __future__ import annotations

from typing import Any

import requests

DEFAULT_TIMEOUT = 10.0


class TimeoutSession(requests.Session):
    """A requests session whose every call has a timeout (10 s unless given)."""

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", DEFAULT_TIMEOUT)
        return super().request(method, url, *args, **kwargs)
