"""Prometheus probe: run each rule's PromQL as an instant query (`/api/v1/query`) and keep every series.

Also home of what the `metrics` probe shares with it: the session with the entry's auth and the capped HTTP GET.
"""

from __future__ import annotations

import json
import math
import time
from typing import TYPE_CHECKING, Any

import requests

from opsverify.httpclient import ProbeSession
from opsverify.kinds.base import ProbeContext
from opsverify.kinds.http.model import HttpAuth
from opsverify.kinds.http.probe import settings_for
from opsverify.kinds.prometheus.facts import FiringAlert, PrometheusFacts, RuleResult, Series
from opsverify.netmessages import Endpoint, describe

if TYPE_CHECKING:
    from opsverify.kinds.prometheus.model import PrometheusCheck

MAX_RESPONSE_BYTES = 50_000_000


class ApiError(Exception):
    """The server answered, but not with a usable answer; the message is complete and user-facing."""


def session_for(auth: HttpAuth | None, headers: dict[str, str]) -> ProbeSession:
    """A session carrying the entry's auth and headers (the caller closes it)."""
    return settings_for(auth, headers).session()


def capped_get(
    session: requests.Session,
    url: str,
    *,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    timeout: float,
    verify: bool | str,
    limit: int = MAX_RESPONSE_BYTES,
) -> tuple[requests.Response, bytes]:
    """GET with a timeout on connect and on the whole body, reading at most `limit` bytes."""
    deadline = time.monotonic() + timeout
    response = session.get(url, params=params, headers=headers, timeout=timeout, verify=verify, stream=True)
    with response:
        chunks, size = [], 0
        for chunk in response.iter_content(chunk_size=65536):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise ApiError(f"{url}: the response is larger than {limit // 1_000_000} MB; not read")
            if time.monotonic() > deadline:
                raise requests.exceptions.ReadTimeout("body not received within the timeout")
    return response, b"".join(chunks)


def denied(response: requests.Response, url: str) -> str | None:
    """An operator-readable reason when the server refused our credentials."""
    if response.status_code in (401, 403):
        return (
            f"HTTP {response.status_code} from {url}: the credentials were rejected or are missing "
            "(check `auth:` — bearer token or basic username/password)"
        )
    return None


def probe(entry: PrometheusCheck, ctx: ProbeContext) -> PrometheusFacts:
    """Evaluate every rule of `entry` as an instant query; a server that cannot be reached stops early."""
    facts = PrometheusFacts(url=entry.url)
    endpoint = f"{entry.url}/api/v1/query"
    verify: bool | str = entry.verify if isinstance(entry.verify, bool) else str(ctx.path(entry.verify))
    started = time.perf_counter()
    with session_for(entry.auth, entry.headers) as session:
        for name, rule in entry.rules.items():
            try:
                facts.results[name] = _instant_query(session, endpoint, rule.expr, entry.timeout, verify)
            except requests.exceptions.RequestException as exc:
                facts.error = describe(exc, Endpoint.from_url(endpoint, entry.timeout))
                break
            except ApiError as exc:
                facts.error = str(exc)
                break
        if entry.firing is not None and facts.error is None:
            alerts_url = f"{entry.url}/api/v1/alerts"
            try:
                facts.firing = _firing_alerts(session, alerts_url, entry.timeout, verify)
            except requests.exceptions.RequestException as exc:
                facts.firing_error = describe(exc, Endpoint.from_url(alerts_url, entry.timeout))
            except ApiError as exc:
                facts.firing_error = str(exc)
    facts.elapsed_ms = (time.perf_counter() - started) * 1000
    return facts


def _firing_alerts(
    session: requests.Session, url: str, timeout: float, verify: bool | str
) -> list[FiringAlert]:
    """The alerts the server reports as firing (state `firing`; `pending` ones wait for their `for:`)."""
    response, body = capped_get(session, url, timeout=timeout, verify=verify)
    if reason := denied(response, url):
        raise ApiError(reason)
    try:
        document = json.loads(body)
        alerts = document["data"]["alerts"]
        return sorted(
            (
                FiringAlert(
                    str(alert["labels"].get("alertname", "?")),
                    {str(k): str(v) for k, v in alert["labels"].items()},
                    str(alert.get("activeAt", "")),
                )
                for alert in alerts
                if alert.get("state") == "firing"
            ),
            key=lambda alert: (alert.name, sorted(alert.labels.items())),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ApiError(
            f"{url} did not answer like the Prometheus alerts API (HTTP {response.status_code}); is `url` "
            "the base URL of a Prometheus server, e.g. http://prometheus:9090?"
        ) from None


def _instant_query(
    session: requests.Session, endpoint: str, expr: str, timeout: float, verify: bool | str
) -> RuleResult:
    params = {"query": expr, "timeout": f"{timeout:g}s"}
    response, body = capped_get(session, endpoint, params=params, timeout=timeout, verify=verify)
    if reason := denied(response, endpoint):
        raise ApiError(reason)
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    if not isinstance(document, dict) or document.get("status") not in ("success", "error"):
        content_type = response.headers.get("content-type", "no content type")
        raise ApiError(
            f"{endpoint} did not answer like the Prometheus HTTP API (HTTP {response.status_code}, "
            f"{content_type}); is `url` the base URL of a Prometheus server, e.g. http://prometheus:9090?"
        )
    result = RuleResult(expr=expr, warnings=[str(w) for w in document.get("warnings") or []])
    if document["status"] == "error":
        kind = document.get("errorType", "error")
        result.error = f"Prometheus rejected the query ({kind}): {document.get('error', '')}; fix `expr`"
        if kind in ("timeout", "canceled"):
            result.error = f"the query did not finish within {timeout:g}s ({kind}); simplify `expr`"
        return result
    data = document.get("data") or {}
    result.series, result.error = parse_result(data.get("resultType"), data.get("result"))
    return result


def parse_result(result_type: Any, result: Any) -> tuple[list[Series], str | None]:
    """Series of an instant query's `data` (documented JSON format); an error for non-instant results."""
    try:
        if result_type == "vector":
            return [Series(dict(item["metric"]), _number(item["value"][1])) for item in result], None
        if result_type == "scalar":
            return [Series({}, _number(result[1]))], None
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        return [], f"unexpected shape of the query result ({type(exc).__name__}: {exc})"
    if result_type == "matrix":
        return [], (
            "the query returns a range vector (it ends in `[5m]`); wrap it in a function such as "
            "`rate(...)` or `max_over_time(...)` so it yields one value per series"
        )
    return [], f"the query returns a {result_type}, expected an instant vector or a scalar"


def _number(text: Any) -> float:
    value = float(text)  # Prometheus sends "NaN", "+Inf", "-Inf" as strings, which float() reads
    return math.nan if math.isnan(value) else value
