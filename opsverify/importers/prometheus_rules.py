"""`opsverify import prometheus-rules alerts.yml`: the alerting rules of Prometheus rules files as explicit
`prometheus:` rules (the same checks `rules_file:` gives), one entry per rule group."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from opsverify.importers.draft import Draft, ImportProblem, quote
from opsverify.importers.source import load_documents


def import_rules(files: list[Path], target: str, draft: Draft | None = None) -> Draft:
    draft = draft or Draft(target, ", ".join(file.name for file in files))
    for file in files:
        documents = load_documents(file)
        document = documents[0] if len(documents) == 1 else None
        groups = document.data.get("groups") if document and isinstance(document.data, dict) else None
        if document is None or not isinstance(groups, list):
            raise ImportProblem(
                f"{file}: not a Prometheus rules file: expected one YAML document with `groups:`, a list of "
                "groups each with `rules:` (alert: NAME, expr: PROMQL)"
            )
        url = draft.var("PROMETHEUS_URL", "http://127.0.0.1:9090")
        for index, group in enumerate(groups):
            if not isinstance(group, dict) or not isinstance(group.get("rules"), list):
                raise ImportProblem(
                    f"{file}:{document.line(('groups', index))}: groups[{index}] has no `rules:` list"
                )
            rules: dict[str, Any] = {}
            names: list[str] = []
            for position, rule in enumerate(group["rules"]):
                path = ("groups", index, "rules", position)
                if not isinstance(rule, dict) or "expr" not in rule:
                    raise ImportProblem(
                        f"{file}:{document.line(path)}: expected a rule with `alert:` or `record:` and `expr:`"
                    )
                if "record" in rule:
                    draft.skip(
                        f"{file.name}:{document.line(path)}: recording rule {rule['record']}: it records a series, "
                        "it does not alert"
                    )
                    continue
                name = str(rule.get("alert", f"rule-{position}"))
                key = name
                number = 1
                while key in rules:
                    number += 1
                    key = f"{name}-{number}"
                rules[key] = alert_rule_entry(rule, quote(file.name, document.line(path), f"alert: {name}"))
                names.append(name)
            if not rules:
                draft.skip(f"{file.name}: group {group.get('name', index)}: only recording rules")
                continue
            draft.add(
                "prometheus",
                str(group.get("name") or f"group-{index}"),
                {
                    "description": quote(
                        file.name,
                        document.line(("groups", index)),
                        f"group {group.get('name', index)}: {', '.join(names)}",
                    ),
                    "url": url,
                    "rules": rules,
                },
            )
    if not draft.entry_count():
        raise ImportProblem(
            f"{', '.join(map(str, files))}: no alerting rules (`alert:`) found; nothing to import"
        )
    return draft


def alert_rule_entry(rule: dict[str, Any], description: str) -> dict[str, Any]:
    """One alerting rule as an explicit `prometheus:` rule (alert: true, its severity, summary and for:)."""
    entry: dict[str, Any] = {"expr": str(rule["expr"]).strip(), "alert": True, "description": description}
    labels = rule.get("labels") if isinstance(rule.get("labels"), dict) else {}
    annotations = rule.get("annotations") if isinstance(rule.get("annotations"), dict) else {}
    if labels and labels.get("severity") is not None:
        entry["severity"] = str(labels["severity"])
    if annotations and annotations.get("summary") is not None:
        entry["summary"] = str(annotations["summary"])
    if rule.get("for") is not None:
        entry["for"] = str(rule["for"])
    return entry
