"""Tiny, safe expression language for `expect.conditions`: `$.a == $.b`, `$.n < 5`, `$.ok != false`.

No eval: each side is a JSON path (`$.a.b[0]`) or a YAML literal; the operator is one of
==, !=, <, <=, >, >=.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import yaml

_OPERATOR = re.compile(r"\s(==|!=|<=|>=|<|>)\s")
_PATH_PART = re.compile(r"([^.\[\]]+)|\[(-?\d+)\]")


def lookup_path(document: Any, path: str) -> tuple[bool, Any]:
    """Follow a dotted path (`a.b[0].c`, optional leading `$.`) into JSON data: (found, value)."""
    text = path.strip()
    if text in ("$", ""):
        return True, document
    if text.startswith("$."):
        text = text[2:]
    elif text.startswith("$["):
        text = text[1:]
    current = document
    for match in _PATH_PART.finditer(text):
        key, index = match.groups()
        if index is not None:
            if not isinstance(current, list) or not -len(current) <= int(index) < len(current):
                return False, None
            current = current[int(index)]
        elif isinstance(current, dict) and key in current:
            current = current[key]
        elif isinstance(current, list) and key.isdigit() and int(key) < len(current):
            current = current[int(key)]
        else:
            return False, None
    return True, current


@dataclass(frozen=True)
class Operand:
    text: str
    path: str | None
    literal: Any = None

    def value(self, document: Any) -> tuple[bool, Any]:
        if self.path is None:
            return True, self.literal
        return lookup_path(document, self.path)


@dataclass(frozen=True)
class Condition:
    text: str
    left: Operand
    operator: str
    right: Operand

    def evaluate(self, document: Any) -> tuple[bool, str]:
        """(holds, explanation with the actual values)."""
        found_left, left = self.left.value(document)
        found_right, right = self.right.value(document)
        if not found_left:
            return False, f"{self.left.text} is missing"
        if not found_right:
            return False, f"{self.right.text} is missing"
        shown = f"{self.left.text} = {json.dumps(left)}"
        if self.right.path is not None:
            shown += f", {self.right.text} = {json.dumps(right)}"
        try:
            holds = _compare(left, self.operator, right)
        except TypeError:
            return False, f"cannot compare {json.dumps(left)} {self.operator} {json.dumps(right)}"
        return holds, shown


def _compare(left: Any, operator: str, right: Any) -> bool:
    if operator == "==":
        return bool(left == right)
    if operator == "!=":
        return bool(left != right)
    if isinstance(left, bool) or isinstance(right, bool) or left is None or right is None:
        raise TypeError
    if isinstance(left, str) != isinstance(right, str):
        raise TypeError
    if operator == "<":
        return bool(left < right)
    if operator == "<=":
        return bool(left <= right)
    if operator == ">":
        return bool(left > right)
    return bool(left >= right)


def _operand(text: str) -> Operand:
    text = text.strip()
    if text.startswith("$"):
        if not re.fullmatch(r"\$(\.[^.\[\]\s]+|\[-?\d+\])*", text):
            raise ValueError(f"invalid path {text!r}; write paths like $.status or $.items[0].name")
        return Operand(text, text)
    try:
        literal = yaml.safe_load(text)
    except yaml.YAMLError:
        raise ValueError(f'invalid literal {text!r}; quote strings, e.g. "ready"') from None
    return Operand(text, None, literal)


def compile_condition(text: str) -> Condition:
    """Parse 'LEFT OP RIGHT'; ValueError names what is wrong."""
    if not isinstance(text, str):
        raise ValueError(f'expected a condition like "$.a == $.b", got {text!r}')
    matches = list(_OPERATOR.finditer(text))
    if len(matches) != 1:
        raise ValueError(
            f"condition {text!r}: expected exactly one of == != < <= > >= (with spaces around it), "
            'e.g. "$.outbox_dead_count == 0"'
        )
    match = matches[0]
    left, right = _operand(text[: match.start()]), _operand(text[match.end() :])
    if left.path is None and right.path is None:
        raise ValueError(f"condition {text!r}: at least one side must be a $.path into the response")
    return Condition(text, left, match.group(1), right)
