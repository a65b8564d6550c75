"""`opsverify import gatus config.yaml`: Gatus endpoints as http / tls / tcp checks, their conditions
translated ([STATUS], [BODY].path, [RESPONSE_TIME], [CERTIFICATE_EXPIRATION], len(), any(), pat());
every condition that cannot be translated is listed at the top, never dropped silently."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from opsverify.importers.compose import optional_kind
from opsverify.importers.draft import Draft, ImportProblem, quote
from opsverify.importers.source import load_documents

_CONDITION = re.compile(r"^\s*(.+?)\s*(==|!=|<=|>=|<|>)\s*(.+?)\s*$")
_DURATION = re.compile(r"^(\d+)(ms|s|m|h|d)?$")


class Untranslatable(Exception):
    pass


def import_gatus(files: list[Path], target: str) -> Draft:
    draft = Draft(target, ", ".join(file.name for file in files))
    for file in files:
        documents = load_documents(file)
        document = documents[0] if len(documents) == 1 else None
        endpoints = document.data.get("endpoints") if document and isinstance(document.data, dict) else None
        if document is None or not isinstance(endpoints, list):
            raise ImportProblem(
                f"{file}: not a Gatus config: expected a YAML mapping with `endpoints:` (a list of name/url/conditions)"
            )
        for index, endpoint in enumerate(endpoints):
            if not isinstance(endpoint, dict) or "url" not in endpoint:
                raise ImportProblem(
                    f"{file}:{document.line(('endpoints', index))}: endpoints[{index}]: expected `name:` and `url:`"
                )
            _endpoint(draft, file.name, document, index, endpoint)
    if not draft.entry_count():
        raise ImportProblem(
            f"{', '.join(map(str, files))}: no endpoint could be converted; nothing to import"
        )
    return draft


def _endpoint(draft: Draft, file: str, document: Any, index: int, endpoint: dict[str, Any]) -> None:
    name = str(endpoint.get("name") or f"endpoint-{index}")
    url = str(endpoint["url"])
    where = ("endpoints", index)
    description = quote(file, document.line((*where, "url")), document.text((*where, "url")))
    if not endpoint.get("enabled", True):
        draft.skip(f"{file}:{document.line(where)}: endpoint {name}: disabled")
        return
    conditions = [str(c) for c in endpoint.get("conditions") or []]
    if url.startswith(("tcp://", "tls://")) or url.startswith(
        ("icmp://", "dns://", "ssh://", "starttls://", "udp://", "ws://", "wss://")
    ):
        scheme, _, rest = url.partition("://")
        host, _, port = rest.partition(":")
        if scheme == "tls":
            days = _cert_days(conditions)
            draft.add(
                "tls",
                name,
                {
                    "description": description,
                    "host": host,
                    "port": int(port or 443),
                    **({"min_days_left": days} if days else {}),
                },
            )
        elif scheme == "tcp":
            optional_kind(
                draft,
                "tcp",
                name,
                {"description": description, "host": host, "port": int(port or 0)},
                f"{file}:{document.line(where)}: endpoint {name} ({url})",
            )
        else:
            draft.skip(
                f"{file}:{document.line(where)}: endpoint {name}: {scheme}:// endpoints are not checked by opsverify"
            )
        return
    if not url.startswith(("http://", "https://")):
        draft.skip(
            f"{file}:{document.line(where)}: endpoint {name}: {url!r} is not an http(s)/tcp/tls endpoint"
        )
        return
    entry: dict[str, Any] = {"description": description, "url": url}
    if endpoint.get("method"):
        entry["method"] = str(endpoint["method"]).upper()
    if endpoint.get("headers"):
        entry["headers"] = {str(k): str(v) for k, v in endpoint["headers"].items()}
    if endpoint.get("body"):
        entry["body"] = str(endpoint["body"])
    expect: dict[str, Any] = {}
    for position, condition in enumerate(conditions):
        line = document.line((*where, "conditions", position))
        try:
            _translate(condition, expect, draft, name, url)
        except Untranslatable as exc:
            draft.skip(f"{file}:{line}: endpoint {name}: condition `{condition}`: {exc}")
    if expect:
        entry["expect"] = expect
    draft.add("http", name, entry)


def _cert_days(conditions: list[str]) -> int | None:
    for condition in conditions:
        match = _CONDITION.match(condition)
        if match and match.group(1) == "[CERTIFICATE_EXPIRATION]" and match.group(2) in (">", ">="):
            return _hours(match.group(3)) // 24
    return None


def _hours(text: str) -> int:
    match = _DURATION.match(text.strip())
    if not match:
        raise Untranslatable(f"cannot read the duration {text!r}")
    seconds = (
        int(match.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2) or "ms"]
    )
    return int(seconds // 3600)


def _literal(text: str) -> Any:
    text = text.strip()
    try:
        return json.loads(text)
    except ValueError:
        return text.strip("\"'")


def _jmes_path(body_path: str) -> str:
    """`[BODY].data.items[0]` -> `data.items[0]` (JMESPath); `[BODY]` -> `@`."""
    rest = body_path[len("[BODY]") :].lstrip(".")
    return rest or "@"


def _jmes_literal(value: Any) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "\\'") + "'"
    return "`" + json.dumps(value) + "`"


def _translate(condition: str, expect: dict[str, Any], draft: Draft, name: str, url: str) -> None:
    match = _CONDITION.match(condition)
    if not match:
        raise Untranslatable("not of the form `LEFT OPERATOR RIGHT`")
    left, operator, right = match.groups()
    if left == "[STATUS]":
        if operator == "==" and right.isdigit():
            expect["status"] = int(right)
            return
        if operator == "<" and right.isdigit() and int(right) <= 600:
            expect["status"] = list(range(100, int(right)))
            return
        raise Untranslatable("only [STATUS] == CODE and [STATUS] < CODE are translated")
    if left == "[RESPONSE_TIME]":
        if operator in ("<", "<="):
            expect["max_latency_ms"] = int(right)
            return
        raise Untranslatable("only [RESPONSE_TIME] < MS is translated")
    if left == "[CERTIFICATE_EXPIRATION]":
        if operator in (">", ">=") and url.startswith("https://"):
            host = re.match(r"https://([^/:]+)(?::(\d+))?", url)
            if host:
                draft.add(
                    "tls",
                    f"{name}-cert",
                    {
                        "description": f"gatus endpoint {name}: {condition}",
                        "host": host.group(1),
                        "port": int(host.group(2) or 443),
                        "min_days_left": max(1, _hours(right) // 24),
                    },
                )
                return
        raise Untranslatable("only [CERTIFICATE_EXPIRATION] > DURATION on an https:// URL is translated")
    conditions = expect.setdefault("conditions", [])
    if left.startswith("len([BODY]") and left.endswith(")"):
        conditions.append(f"length({_jmes_path(left[4:-1])}) {operator} `{int(right)}`")
        return
    if left.startswith("[BODY]"):
        path = _jmes_path(left)
        if right.startswith("pat(") and right.endswith(")") and operator in ("==", "!="):
            glob = right[4:-1]
            regex = "^" + re.escape(glob).replace(r"\*", ".*") + "$"
            text = f"matches(to_string({path}), {_jmes_literal(regex)})"
            conditions.append(text if operator == "==" else f"!{text}")
            return
        if right.startswith("any(") and right.endswith(")") and operator == "==":
            values = [_literal(v) for v in right[4:-1].split(",")]
            conditions.append(" || ".join(f"{path} == {_jmes_literal(v)}" for v in values))
            return
        value = _literal(right)
        if isinstance(value, str) and value.startswith("["):
            raise Untranslatable(f"compares with {right}, a Gatus placeholder")
        if operator in ("==", "!="):
            conditions.append(f"{path} {operator} {_jmes_literal(value)}")
            return
        if isinstance(value, int | float) and not isinstance(value, bool):
            conditions.append(f"{path} {operator} `{json.dumps(value)}`")
            return
        raise Untranslatable(f"{operator} needs a number on the right")
    if not conditions:
        expect.pop("conditions")
    raise Untranslatable(
        f"{left.split('(')[0] if '(' in left else left} is not translated (opsverify has no such check)"
    )
