"""One HTTP delivery attempt for the HTTP-based channels: timeout, 429/5xx as retryable, safe error text.

Error messages name the host and port only: a webhook's path or query is its secret.
"""

from __future__ import annotations

import email.utils
import time

import requests

from opsverify.netmessages import Endpoint, describe
from opsverify.notify.base import DeliveryError, RetryableError
from opsverify.redaction import redact

USER_AGENT = "opsverify-notify"


def _endpoint(url: str, timeout: float) -> Endpoint:
    """Host and port of the URL (its path or query may be a secret), and the fixes a channel's user has."""
    return Endpoint.from_url(
        url,
        timeout,
        verify_fix="this machine's CA store does not trust the receiver's certificate; fix its chain, or point "
        "REQUESTS_CA_BUNDLE at its CA",
        not_tls_fix="use http:// in the channel's URL, or the receiver's TLS port",
        service="the receiver",
        secret_url=True,
    )


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))


def http_send(
    url: str, body: bytes, headers: dict[str, str], timeout: float, method: str = "POST"
) -> requests.Response:
    """Send once; 2xx returns the response, 429/5xx/network errors raise RetryableError, others DeliveryError."""
    endpoint = _endpoint(url, timeout)
    target = endpoint.where
    try:
        response = requests.request(
            method,
            url,
            data=body,
            headers={"User-Agent": USER_AGENT, **headers},
            timeout=timeout,
            allow_redirects=False,
        )
    except requests.exceptions.RequestException as exc:
        error = describe(exc, endpoint)
        if isinstance(
            exc, requests.exceptions.SSLError
        ):  # a certificate, or not a TLS port: retrying won't help
            raise DeliveryError(error) from None
        if isinstance(exc, requests.exceptions.Timeout | requests.exceptions.ConnectionError):
            raise RetryableError(error) from None
        raise DeliveryError(error) from None
    status = response.status_code
    if status == 429 or status >= 500:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        raise RetryableError(f"{target} answered HTTP {status}{_excerpt(response)}", retry_after)
    if not 200 <= status < 300:
        raise DeliveryError(f"{target} answered HTTP {status}{_excerpt(response)}")
    return response


def _excerpt(response: requests.Response) -> str:
    text = response.text.strip().replace("\n", " ")[:200]
    return f": {redact(text)}" if text else ""
