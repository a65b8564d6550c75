"""One HTTP delivery attempt for the HTTP-based channels: timeout, 429/5xx as retryable, safe error text.

Error messages name the host and port only: a webhook's path or query is its secret.
"""

from __future__ import annotations

import email.utils
import time
from urllib.parse import urlsplit

import requests

from opsverify.config.secrets import redact
from opsverify.notify.base import DeliveryError, RetryableError

USER_AGENT = "opsverify-notify"


def where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"


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
    target = where(url)
    try:
        response = requests.request(
            method,
            url,
            data=body,
            headers={"User-Agent": USER_AGENT, **headers},
            timeout=timeout,
            allow_redirects=False,
        )
    except requests.exceptions.Timeout:
        raise RetryableError(f"no response from {target} within {timeout:g}s (timeout)") from None
    except requests.exceptions.SSLError:
        raise DeliveryError(f"TLS error talking to {target} (certificate not trusted?)") from None
    except requests.exceptions.ConnectionError as exc:
        text = str(exc)
        if "Connection refused" in text:
            reason = "connection refused (is the receiver running?)"
        elif "Name or service not known" in text or "resolve" in text:
            reason = "host name not resolved"
        else:
            reason = "connection failed"
        raise RetryableError(f"cannot connect to {target}: {reason}") from None
    except requests.exceptions.RequestException as exc:
        raise DeliveryError(f"request to {target} failed: {type(exc).__name__}") from None
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
