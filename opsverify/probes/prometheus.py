"""Prometheus probe: run each rule's PromQL as an instant query (`/api/v1/query`) and keep every series.

Also home of what the `metrics` probe shares with it: `Series`, `RuleResult` and the capped HTTP GET.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import requests

from opsverify.config.http import HttpAuth
from opsverify.config.prometheus import format_number
from opsverify.netmessages import Endpoint, describe
from opsverify.probes.base import Phase, ProbeContext
from opsverify.probes.http import USER_AGENT

if TYPE_CHECKING:
    from opsverify.config.prometheus import PrometheusCheck

MAX_RESPONSE_BYTES = 50_000_000


@dataclass(frozen=True)
class Series:
    """One label set and its value (`__name__` among the labels when the result keeps it)."""

    labels: dict[str, str]
    value: float

    def label_text(self) -> str:
        """`name{a="1", b="2"}` like Prometheus prints a series; `{}` for an aggregate without labels."""
        name = self.labels.get("__name__", "")
        pairs = ", ".join(f'{k}="{v}"' for k, v in sorted(self.labels.items()) if k != "__name__")
        return f"{name}{{{pairs}}}" if pairs or not name else name


@dataclass
class RuleResult:
    """What one rule evaluated to: every series, or why it could not be evaluated."""

    expr: str  # the rule as shown in messages (PromQL, a selector, a ratio, a quantile)
    series: list[Series] = field(default_factory=list)
    error: str | None = None
    note: str = ""  # how the value was derived (ratio parts, observations), for the report
    warnings: list[str] = field(default_factory=list)

    def phase(self, name: str) -> Phase:
        """This rule as a probe phase: its expression and what it yielded (or why it yielded nothing)."""
        if self.error:
            return Phase(name, False, f"{self.expr}: {self.error}")
        values = ", ".join(f"{s.label_text()} = {format_number(s.value)}" for s in self.series[:3])
        more = f" … ({len(self.series)} series)" if len(self.series) > 3 else ""
        note = f" [{self.note}]" if self.note else ""
        return Phase(name, True, f"{self.expr} -> {values + more if self.series else '(no series)'}{note}")

    def report_lines(self, name: str) -> list[str]:
        head = f"{name}: {self.expr}" + (f"  [{self.note}]" if self.note else "")
        if self.error:
            return [head, f"    error: {self.error}"]
        lines = [head]
        lines += [f"    {s.label_text()} = {format_number(s.value)}" for s in self.series[:50]]
        if len(self.series) > 50:
            lines.append(f"    … and {len(self.series) - 50} more series")
        if not self.series:
            lines.append("    (no series)")
        lines += [f"    warning: {w}" for w in self.warnings]
        return lines


@dataclass
class PrometheusFacts:
    url: str
    results: dict[str, RuleResult] = field(default_factory=dict)
    error: str | None = None  # the server could not be queried at all
    elapsed_ms: float = 0.0

    def phases(self) -> list[Phase]:
        """One instant query per rule; a server that could not be queried ends the list."""
        phases = [result.phase(f"query {name}") for name, result in self.results.items()]
        if self.error:
            phases.append(Phase(f"query {self.url}", False, self.error, self.elapsed_ms / 1000))
        return phases

    def report(self) -> str:
        """Every rule with every series it returned, for the test report."""
        lines = [f"Prometheus {self.url} ({self.elapsed_ms:.0f} ms)"]
        for name, result in self.results.items():
            lines += result.report_lines(name)
        return "\n".join(lines)


class ApiError(Exception):
    """The server answered, but not with a usable answer; the message is complete and user-facing."""


def session_for(auth: HttpAuth | None, headers: dict[str, str]) -> requests.Session:
    """A session carrying the entry's auth and headers (the caller closes it)."""
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    session.headers.update(headers)
    if auth is not None and auth.bearer is not None:
        session.headers["Authorization"] = f"Bearer {auth.bearer}"
    elif auth is not None and auth.basic is not None:
        session.auth = (auth.basic.username, auth.basic.password)
    return session


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
    facts.elapsed_ms = (time.perf_counter() - started) * 1000
    return facts


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
