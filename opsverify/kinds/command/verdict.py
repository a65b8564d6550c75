"""What about a command's run contradicts its `command:` entry: exit code, output, lines, JSON."""

from __future__ import annotations

import json
import re
from typing import Any

from opsverify.comparison import show, values_equal
from opsverify.expressions import compile_condition, lookup_path
from opsverify.kinds.command.facts import CommandFacts
from opsverify.kinds.command.model import CommandCheck
from opsverify.problem import Judgement, Problem

CUT = 120


def cut(text: str) -> str:
    text = text.strip()
    return repr(text if len(text) <= CUT else text[:CUT] + "…")


def judge(entry: CommandCheck, facts: CommandFacts, rule: str | None = None) -> Judgement:
    """`rule` is unused: command entries have no rules."""
    if facts.error:
        return Judgement([Problem("command", facts.error)])
    if facts.timed_out:
        found = f"still running after {entry.timeout:g}s: killed (timeout)"
        fix = "raise `timeout:` if it is just slow, or find what it waits for"
        return Judgement([Problem(f"`{facts.command}`", found, fix=fix)], facts.summary())
    expect = entry.expect
    problems: list[Problem] = []
    if facts.exit_code not in expect.exit_codes:
        codes = expect.exit_codes
        wanted = str(codes[0]) if len(codes) == 1 else f"one of {codes}"
        problems.append(Problem("exit code", str(facts.exit_code), expected=wanted))
    for name, text in (("stdout", facts.stdout), ("stderr", facts.stderr)):
        equals = getattr(expect, name)
        if equals is not None and text.strip() != equals.strip():
            problems.append(Problem(name, cut(text), expected=repr(equals.strip())))
        regex = getattr(expect, f"{name}_regex")
        if regex and not re.search(regex, text, re.MULTILINE):
            problems.append(Problem(name, cut(text), expected=f"a match of /{regex}/"))
        not_regex = getattr(expect, f"{name}_not_regex")
        if not_regex:
            match = re.search(not_regex, text, re.MULTILINE)
            if match:
                line = text[text.rfind("\n", 0, match.start()) + 1 :].split("\n", 1)[0]
                problems.append(Problem(name, f"the line {cut(line)}", expected=f"no match of /{not_regex}/"))
    count = len([line for line in facts.stdout.splitlines() if line.strip()])
    if expect.lines is not None and count != expect.lines:
        problems.append(Problem("stdout lines", str(count), expected=str(expect.lines)))
    if expect.min_lines is not None and count < expect.min_lines:
        problems.append(Problem("stdout lines", str(count), expected=f"at least {expect.min_lines}"))
    if expect.max_lines is not None and count > expect.max_lines:
        problems.append(Problem("stdout lines", str(count), expected=f"at most {expect.max_lines}"))
    if expect.json_ is not None or expect.conditions:
        problems += _json_problems(entry, facts)
    return Judgement(problems, facts.summary() if problems else "")


def _json_problems(entry: CommandCheck, facts: CommandFacts) -> list[Problem]:
    try:
        document: Any = json.loads(facts.stdout)
    except json.JSONDecodeError as exc:
        return [
            Problem(
                "stdout", f"not JSON ({exc.msg} at line {exc.lineno}): {cut(facts.stdout)}", expected="JSON"
            )
        ]
    problems = []
    for path, wanted in (entry.expect.json_ or {}).items():
        found, actual = lookup_path(document, path)
        if not found:
            problems.append(Problem(f"json {path}", "no such key", expected=show(wanted)))
        elif not values_equal(actual, wanted):
            problems.append(Problem(f"json {path}", show(actual), expected=show(wanted)))
    for text in entry.expect.conditions:
        ok, detail = compile_condition(text).evaluate(document)
        if not ok:
            problems.append(Problem(f"json {text}", detail))
    return problems
