"""Thresholds and statements in a guide's prose -> host, tls, metrics, prometheus and logs entries ("Disk usage
>85%", "SSL certificate expiring within 30 days", "Error rate > 5%", "p95 > 5 seconds", "Check logs for \"X\"");
RTO / RPO statements and "Restore" headings are remembered for the drill."""

from __future__ import annotations

import re
from typing import Any

from opsverify.importers.draft import quote, slug
from opsverify.importers.guide.lines import Line
from opsverify.importers.guide.state import DURATION_WORDS, State, add, host, host_kinds

_PERCENT = r"(?:>|above|over|exceeds?|exceeding|greater than|more than)\s*(\d+(?:\.\d+)?)\s*%"


def prose(state: State, line: Line) -> None:
    text = line.text
    lower = text.lower()
    draft = state.draft
    if re.search(r"redis health|redis-cli", lower) and "redis" not in draft.sections:
        add(state, "redis", "cache", {"url": draft.var("REDIS_URL", "redis://127.0.0.1:6379/0")}, line)
    if line.code is not None:
        return
    if m := re.match(r"^\s*\*\*(.+?):?\*\*:?\s*$", text):
        state.label = m.group(1).strip()
    elif text.strip() and not text.strip().startswith(("-", "*", "|")):
        state.label = None  # a label ("**Critical Alerts:**") holds for the list right below it
    if m := re.match(r"^\s*[-*]\s+`([a-z_:][a-z0-9_:]*)`\s*[-–:]\s*(.*)$", text):
        state.metric_names.append((m.group(1), "histogram" in m.group(2).lower(), line))
    if (
        m := re.search(r"disk(?: space| usage)?[^%\n]{0,20}?" + _PERCENT, lower)
    ) and "disk" not in host_kinds(draft):
        host(state, "disk", {"path": draft.var("DISK_PATH", "/"), "max_used_pct": float(m.group(1))}, line)
    elif (m := re.search(r"disk[^%\n]{0,30}?<\s*(\d+)\s*%\s*free", lower)) and "disk" not in host_kinds(
        draft
    ):
        host(
            state,
            "disk",
            {"path": draft.var("DISK_PATH", "/"), "max_used_pct": 100 - float(m.group(1))},
            line,
        )
    if (m := re.search(r"memory(?: usage)?[^%\n]{0,20}?" + _PERCENT, lower)) and "memory" not in host_kinds(
        draft
    ):
        host(state, "memory", {"max_used_pct": float(m.group(1))}, line)
    if (m := re.search(r"cpu(?: usage)?[^%\n]{0,20}?" + _PERCENT, lower)) and "cpu" not in host_kinds(draft):
        host(state, "cpu", {"max_used_pct": float(m.group(1))}, line)
    m = re.search(r"(?:ssl|tls)?\s*certificate[s]? expir\w*\s*(?:within|in|<)\s*(\d+)\s*days", lower)
    if m and "tls" not in draft.sections:
        api_host = draft.var("API_HOST", "example.com")
        add(
            state,
            "tls",
            "certificate",
            {"host": api_host, "port": 443, "min_days_left": int(m.group(1))},
            line,
        )
    if (m := re.search(r"(?i)check (?:the )?logs for\s+(.*)", text)) and (
        quoted := re.findall(r'"([^"]+)"', m.group(1))
    ):
        path = draft.var("APP_LOG_PATH", "/var/log/app/app.log")
        name = slug(state.label or quoted[0]) or "log-patterns"
        add(
            state,
            "logs",
            name,
            {"path": path + "*", "since": "24h", "patterns": [re.escape(q) for q in quoted]},
            line,
        )
    if "tls" not in draft.sections and (
        re.search(r"certbot renew|verify ssl certificate", lower)
        or (re.search(r"(?i)\b(ssl|tls) certificate", line.heading) and text.strip())
    ):
        api_host = draft.var("API_HOST", "example.com")
        add(state, "tls", "certificate", {"host": api_host, "port": 443, "min_days_left": 30}, line)
        draft.assume(
            f"{state.file}:{line.number}: the guide names no expiry limit; tls.min_days_left 30 "
            "(certbot renews 30 days ahead)"
        )
    if re.search(r"redis health|redis-cli", lower) and "redis" not in draft.sections:
        add(state, "redis", "cache", {"url": draft.var("REDIS_URL", "redis://127.0.0.1:6379/0")}, line)
    for resource in ("disk", "memory", "cpu"):
        m = re.search(resource + r"(?: usage)?\**:?\**\s*<\s*(\d+(?:\.\d+)?)\s*%", lower)
        if m and "free" not in lower[m.end() : m.end() + 6] and resource not in host_kinds(draft):
            keys: dict[str, Any] = {"max_used_pct": float(m.group(1))}
            if resource == "disk":
                keys = {"path": draft.var("DISK_PATH", "/"), **keys}
            host(state, resource, keys, line)
    m = re.search(r"error rate\s*" + _PERCENT, lower)
    subject = re.sub(r"[-*`|#\s]+", " ", lower[: m.start()]).strip() if m else ""
    if m and subject:  # "LLM API error rate > 10%": the error rate of something the guide has no metric for
        draft.skip(
            f'{state.file}:{line.number}: "{line.text.strip().lstrip("-* ")}": no metric for the {subject} error rate'
        )
    elif m and state.metrics_url:
        ratio = ['http_requests_total{status=~"5.."}', "http_requests_total"]
        metrics_rule(state, line, "error-rate", {"ratio": ratio, "max": float(m.group(1)) / 100})
    elif m:
        prometheus_rule(
            state,
            line,
            f"error-rate-{m.group(1)}pct",
            f'sum(rate(http_requests_total{{status=~"5.."}}[5m])) / sum(rate(http_requests_total[5m])) > {float(m.group(1)) / 100:g}',
        )
    if m := re.search(
        r"(?:response time|latency)[^\n]{0,20}?>\s*(\d+(?:\.\d+)?)\s*(ms|milliseconds|s|seconds?)\b", lower
    ):
        seconds = float(m.group(1)) / (1000 if m.group(2).startswith("m") else 1)
        if state.metrics_url:
            rule = {"quantile": 0.95, "histogram": "http_request_duration_seconds", "max": seconds}
            metrics_rule(state, line, "p95-seconds", rule)
            return
        prometheus_rule(
            state,
            line,
            f"p95-over-{seconds:g}s",
            f"histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[5m]))) > {seconds:g}",
        )
    if m := re.search(r"\brto\b[^:\n\d]*[:=]?\**\s*\**\s*(\d+)\s*(minutes?|hours?|days?)", lower):
        state.rto = state.rto or f"{m.group(1)}{DURATION_WORDS[m.group(2)]}"
    if m := re.search(r"\brpo\b[^:\n\d]*[:=]?\**\s*\**\s*(\d+)\s*(minutes?|hours?|days?)", lower):
        state.rpo = state.rpo or f"{m.group(1)}{DURATION_WORDS[m.group(2)]}"
    if re.search(r"\brestore\b", line.heading, re.IGNORECASE) and state.restore_line is None:
        state.restore_line = line
    if re.search(r"\b(pg_isready|DATABASE_URL)\b", text) and "postgres" not in draft.sections:
        url = draft.var("DATABASE_URL", "postgresql://postgres:change-me@127.0.0.1:5432/postgres")
        add(state, "postgres", "main", {"url": url}, line)
    if re.search(r"redis-cli\b.*\bping\b|\bREDIS_URL\b", text) and "redis" not in draft.sections:
        add(state, "redis", "cache", {"url": draft.var("REDIS_URL", "redis://127.0.0.1:6379/0")}, line)
    if re.search(r"\b(look for|grep)\b.*\bERROR\b", text) and "logs" not in draft.sections:
        path = draft.var("APP_LOG_PATH", "/var/log/app/app.log")
        add(state, "logs", "errors", {"path": path + "*", "since": "24h", "patterns": [r"\bERROR\b"]}, line)


def metrics_rule(state: State, line: Line, name: str, rule: dict[str, Any]) -> None:
    """A threshold on the app's /metrics, in an entry per label of the guide ("Critical Alerts", "Warning")."""
    group = slug(state.label or line.heading) or "thresholds"
    entry = state.metrics_groups.setdefault(group, {"line": line, "rules": {}})
    rule = {**rule, "description": quote(state.file, line.number, line.text.strip().lstrip("-*> ").strip())}
    entry["rules"].setdefault(name, rule)


def finish_metrics(state: State) -> None:
    """The /metrics endpoint: an entry per group of thresholds; without thresholds, the key metrics it
    names must be exported; with neither, it stays a plain http check."""
    if not state.metrics_url or state.metrics_line is None:
        return
    base = {"url": state.metrics_url, **state.metrics_auth}
    if state.metrics_groups:
        for group, found in state.metrics_groups.items():
            severity = {"severity": "critical"} if "critical" in group else {}
            add(state, "metrics", group, {**base, "rules": found["rules"], **severity}, found["line"])
        state.draft.assume(
            "metrics: the guide states thresholds, not metric names; the rules assume http_requests_total "
            "and http_request_duration_seconds: adjust them to yours"
        )
        return
    rules: dict[str, Any] = {}
    for name, histogram, _ in state.metric_names:
        rules[slug(name)] = {"metric": f"{name}_count" if histogram else name, "min": 0}
    if rules:
        add(state, "metrics", "app", {**base, "rules": rules}, state.metrics_line)
    else:
        add(state, "http", "metrics", base, state.metrics_line)


def prometheus_rule(state: State, line: Line, name: str, expr: str) -> None:
    draft = state.draft
    entries = draft.sections.setdefault("prometheus", {})
    entry = entries.get("thresholds")
    if entry is None:
        url = draft.var("PROMETHEUS_URL", "http://127.0.0.1:9090")
        entry = entries["thresholds"] = {
            "description": quote(
                state.file,
                line.number,
                "thresholds stated in the guide (metric names assumed: "
                "http_requests_total, http_request_duration_seconds)",
            ),
            "url": url,
            "rules": {},
        }
        draft.assume(
            "prometheus:thresholds: the guide states thresholds, not metrics; the rules assume the usual "
            "http_requests_total / http_request_duration_seconds names: adjust `expr` to yours"
        )
    if name not in entry["rules"]:
        entry["rules"][name] = {
            "expr": expr,
            "alert": True,
            "description": quote(state.file, line.number, line.text.strip().lstrip("-*> ").strip()),
        }
