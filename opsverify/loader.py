"""The one loader of `package.module:attribute` references (kinds, channels, hooks named in a target file)."""

from __future__ import annotations

import importlib
from typing import Any


class ReferenceLoadError(ValueError):
    """A reference that does not name an importable attribute; the message says which part failed."""


def load_reference(reference: str) -> Any:
    """`opsverify.kinds.http.probe:probe` -> the object; a clear ValueError when it cannot be loaded."""
    module_name, colon, attribute = reference.partition(":")
    if not colon or not module_name or not attribute:
        raise ReferenceLoadError(f"{reference!r}: expected `package.module:attribute`")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ReferenceLoadError(f"{reference!r}: cannot import {module_name} ({exc})") from None
    target: Any = module
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise ReferenceLoadError(f"{reference!r}: {module_name} has no attribute {attribute!r}") from None
    return target
