"""What about an HTTP response contradicts its `http:` entry: status, JSON, body, headers, latency."""

from __future__ import annotations

import json
import re
from typing import Any

from opsverify.json_path import lookup_path
from opsverify.kinds.http.facts import HttpFacts
from opsverify.kinds.http.model import HttpCheck, HttpExpect
from opsverify.problem import Judgement, Problem
from opsverify.units import bound


def judge(entry: HttpCheck, facts: HttpFacts, rule: str | None = None) -> Judgement:
    """The problems of one response (none: the check passes) and, when any, the request and body start.

    `rule` is unused: http entries have no rules.
    """
    problems = _problems(entry, facts)
    evidence = facts.evidence(show_wait=bool(entry.wait_until_ready)) if problems else ""
    return Judgement(problems, evidence)


def _problems(entry: HttpCheck, facts: HttpFacts) -> list[Problem]:
    if facts.error:
        return [Problem("connection", facts.error)]
    expect, problems = entry.expect, []
    if facts.status not in expect.status:
        wanted = expect.status[0] if len(expect.status) == 1 else expect.status
        problems.append(Problem("status", expected=str(wanted), found=str(facts.status)))
    body = facts.text
    if expect.json_ is not None or expect.conditions:
        is_json, document = facts.json_document()
        if not is_json:
            found = facts.content_type or "no content type"
            problems.append(Problem("body", expected="a JSON document", found=found))
        else:
            problems.extend(_json_problems(expect, document))
    if expect.body_regex and not re.search(expect.body_regex, body):
        problems.append(Problem("body", expected=f"to match /{expect.body_regex}/", found="no match"))
    if expect.body_not_regex and (match := re.search(expect.body_not_regex, body)):
        problems.append(
            Problem(
                "body", expected=f"no match for /{expect.body_not_regex}/", found=repr(match.group(0)[:80])
            )
        )
    for name, pattern in expect.headers.items():
        actual = facts.headers.get(name.lower())
        found = "no such header" if actual is None else repr(actual[:120])
        if actual is None or not re.search(pattern, actual):
            problems.append(Problem(f"header {name}", expected=f"to match /{pattern}/", found=found))
    if expect.max_latency_ms is not None and facts.p95_ms > expect.max_latency_ms:
        samples = len(facts.latencies_ms)
        label = f"p95 over {samples} samples" if samples > 1 else "latency"
        problems.append(
            Problem(
                label, expected=bound("max", expect.max_latency_ms, " ms"), found=f"{facts.p95_ms:.0f} ms"
            )
        )
    return problems


def _json_problems(expect: HttpExpect, document: Any) -> list[Problem]:
    problems = []
    for path, wanted in (expect.json_ or {}).items():
        found, actual = lookup_path(document, path)
        if not found:
            problems.append(Problem(f"json {path}", expected=json.dumps(wanted), found="no such key"))
        elif actual != wanted or (type(actual) is bool and type(wanted) is not bool):
            problems.append(Problem(f"json {path}", expected=json.dumps(wanted), found=json.dumps(actual)))
    for condition in expect.compiled_conditions():
        holds, explanation = condition.evaluate(document)
        if not holds:
            problems.append(
                Problem(f"condition {condition.text!r}", expected="true", found=f"false: {explanation}")
            )
    return problems
