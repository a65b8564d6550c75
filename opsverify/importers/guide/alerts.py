"""Prometheus alert rules in a guide's YAML blocks -> prometheus entries (one per severity of a block)."""

from __future__ import annotations

import re
from typing import Any

import yaml

from opsverify.importers.draft import quote, slug
from opsverify.importers.guide.lines import Line
from opsverify.importers.guide.state import State, add
from opsverify.importers.prometheus_rules import alert_rule_entry


def alert_blocks(state: State, lines: list[Line]) -> None:
    blocks: list[list[Line]] = []
    current: list[Line] = []
    for line in lines:
        if line.code is not None and line.code in ("yaml", "yml", ""):
            if current and line.number != current[-1].number + 1:
                blocks.append(current)
                current = []
            current.append(line)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    for block in blocks:
        text = "\n".join(line.text for line in block)
        if not re.search(r"^\s*-?\s*alert:", text, re.MULTILINE) or "expr:" not in text:
            continue
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            state.draft.skip(
                f"{state.file}:{block[0].number}: an alert rule block that is not valid YAML ({str(exc).splitlines()[0]})"
            )
            continue
        rules = _rules_in(document)
        by_severity: dict[str, dict[str, Any]] = {}
        for rule in rules:
            if "alert" not in rule or "expr" not in rule:
                continue
            severity = str((rule.get("labels") or {}).get("severity") or "alerts")
            number = next(
                (
                    n.number
                    for n in block
                    if re.search(rf"alert:\s*{re.escape(str(rule['alert']))}\b", n.text)
                ),
                block[0].number,
            )
            entries = by_severity.setdefault(severity, {})
            entries[slug(str(rule["alert"]))] = alert_rule_entry(
                rule, quote(state.file, number, f"alert: {rule['alert']}")
            )
        for severity, entries in by_severity.items():
            url = state.draft.var("PROMETHEUS_URL", "http://127.0.0.1:9090")
            name = slug(re.sub(r"^[\d.\s]+", "", block[0].heading)) or "alerts"
            name = name if len(by_severity) == 1 else f"{name}-{severity}"
            extra = {"severity": "critical"} if severity == "critical" else {}
            add(state, "prometheus", name, {"url": url, "rules": entries, **extra}, block[0])


def _rules_in(document: Any) -> list[dict[str, Any]]:
    if isinstance(document, list):
        return [r for r in document if isinstance(r, dict)]
    if isinstance(document, dict):
        if "groups" in document and isinstance(document["groups"], list):
            return [
                r
                for g in document["groups"]
                if isinstance(g, dict)
                for r in g.get("rules") or []
                if isinstance(r, dict)
            ]
        if "rules" in document and isinstance(document["rules"], list):
            return [r for r in document["rules"] if isinstance(r, dict)]
        if "alert" in document:
            return [document]
    return []
