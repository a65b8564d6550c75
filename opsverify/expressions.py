"""Conditions on a JSON document for `expect.conditions`, in two forms, neither using eval:

- the original comparisons, `$.a == $.b`, `$.n < 5`, `$.ok != false`: each side a JSON path (`$.a.b[0]`)
  or a YAML literal, the operator one of ==, !=, <, <=, >, >= (a condition starting with `$`);
- any other text is a JMESPath expression (https://jmespath.org) that must evaluate to `true`, with three
  functions added for collections: `every(array, &expr)`, `any(array, &expr)` and `matches(string, regex)`:
  `every(values(checks), &@ == 'healthy')`, `length(items) >= 3` (numbers in backticks), `matches(version, '^1[.]')`.
  `every` of an empty array is false: a condition that observed nothing never holds.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import jmespath
import jmespath.exceptions
import jmespath.functions
import yaml

from opsverify.json_path import lookup_path as lookup_path

_OPERATOR = re.compile(r"\s(==|!=|<=|>=|<|>)\s")


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
class Comparison:
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
    """Parse `$.a OP b` or a JMESPath expression; ValueError names what is wrong."""
    if not isinstance(text, str):
        raise ValueError(f'expected a condition like "$.a == $.b", got {text!r}')
    if text.lstrip().startswith("$"):
        return _compile_comparison(text)
    return _compile_jmespath(text)


def _compile_comparison(text: str) -> Comparison:
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
    return Comparison(text, left, match.group(1), right)


class _Functions(jmespath.functions.Functions):  # type: ignore[misc]
    """JMESPath's functions plus every/any over a collection and a regex match."""

    @jmespath.functions.signature({"types": ["array"]}, {"types": ["expref"]})  # type: ignore[untyped-decorator]
    def _func_every(self, array: list[Any], expref: Any) -> bool:
        return bool(array) and all(expref.visit(expref.expression, item) is True for item in array)

    @jmespath.functions.signature({"types": ["array"]}, {"types": ["expref"]})  # type: ignore[untyped-decorator]
    def _func_any(self, array: list[Any], expref: Any) -> bool:
        return any(expref.visit(expref.expression, item) is True for item in array)

    @jmespath.functions.signature({"types": ["string"]}, {"types": ["string"]})  # type: ignore[untyped-decorator]
    def _func_matches(self, value: str, pattern: str) -> bool:
        try:
            return re.search(pattern, value) is not None
        except re.error as exc:
            raise jmespath.exceptions.JMESPathError(
                f"invalid regular expression {pattern!r}: {exc}"
            ) from None


_OPTIONS = jmespath.Options(custom_functions=_Functions())
_LITERALS = re.compile(r"'(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`|\"(?:[^\"\\]|\\.)*\"")
_FUNCTION_CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(")


@dataclass(frozen=True)
class JmesCondition:
    """A JMESPath expression that must evaluate to `true`."""

    text: str
    compiled: Any

    def evaluate(self, document: Any) -> tuple[bool, str]:
        try:
            result = self.compiled.search(document, options=_OPTIONS)
        except jmespath.exceptions.JMESPathError as exc:
            return False, f"cannot evaluate: {exc}".splitlines()[0]
        if result is True:
            return True, "true"
        return False, f"evaluates to {json.dumps(result)}"


def _compile_jmespath(text: str) -> JmesCondition:
    known = {name.removeprefix("_func_") for name in dir(_Functions) if name.startswith("_func_")}
    for name in _FUNCTION_CALL.findall(_LITERALS.sub("''", text)):
        if name not in known:
            raise ValueError(
                f"condition {text!r}: unknown function {name}(); known: {', '.join(sorted(known))}"
            )
    try:
        compiled = jmespath.compile(text)
    except jmespath.exceptions.JMESPathError as exc:
        detail = str(exc).splitlines()[0]
        raise ValueError(
            f"condition {text!r} is neither `$.path OP value` nor a valid JMESPath expression ({detail}); "
            'e.g. "$.outbox_dead_count == 0" or "every(values(checks), &@ == \'healthy\')"'
        ) from None
    return JmesCondition(text, compiled)


Condition = Comparison | JmesCondition
