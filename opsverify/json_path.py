"""A dotted path into JSON data (`a.b[0].c`, optional leading `$.`): what `expect.json` keys and the
comparisons of `expect.conditions` (`opsverify.expressions`) name. Apart from the conditions so that a check
with `expect.json` only does not import JMESPath (start-up time)."""

from __future__ import annotations

import re
from typing import Any

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
