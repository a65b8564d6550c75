"""Start-up cost of a run: the cyclic garbage collector paused while the plugin imports and builds, and two
costs of the libraries the target model imports (pydantic, PyYAML) cut while it imports them.

Importing the plugin (pydantic, PyYAML, the target model), loading the target and importing a kind's probe
(requests, urllib3) allocate tens of thousands of objects that live as long as the process; meanwhile the
collector walks them again and again (every 700 allocations the youngest generation, and the older ones in
turn), and finds nothing to free. `gc_paused()` turns it off for one such step and back on after it (only if
it was on: a caller that turned it off keeps it off). Bounded steps only: the collector is never left off,
whether the run is a command-line run or one started from Python.

`library_imports()` (around the import of the target model's modules) saves what those imports compute
again and again or the slow way, with the same results:

- pydantic's annotations (written as text, `from __future__ import annotations`) become `typing.ForwardRef`s,
  and each compiles its text: ~870 compiles of ~250 distinct texts ('bool', 'str', 'CoreSchema', ...) in a
  one-check run. While the block runs, `typing`'s `compile` keeps the code of a text it compiled once (code
  objects are immutable: sharing one is what a second compile would have made).
- PyYAML's pure-Python reader compiles, as its module loads, the pattern of the characters YAML does not
  allow: a negated class of all of Unicode, which `re` builds in Python one code point at a time (~60,000;
  about 10 % of the plugin's own start-up instructions), although opsverify parses with libyaml (the C
  reader, which never uses it). The same set, written as the few ranges it excludes, compiles in a
  fraction of that; `re`'s cache is given that pattern under PyYAML's text, so its `re.compile` returns it.
  A PyYAML whose text differs simply compiles its own.
"""

from __future__ import annotations

import gc
import re
import sys
import typing
from collections.abc import Iterator
from contextlib import contextmanager
from types import CodeType
from typing import Any

# PyYAML's Reader.NON_PRINTABLE (yaml/reader.py), and the same set of characters written as its complement
YAML_NON_PRINTABLE = "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
YAML_NON_PRINTABLE_RANGES = "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]"


@contextmanager
def gc_paused() -> Iterator[None]:
    """The collector off for the block (no cyclic garbage is collected in it; reference counting frees the
    rest as usual), back on after it if it was on before."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def library_imports() -> Iterator[None]:
    """Imports in the block run with the collector paused (`gc_paused`), reuse the compiled code of a
    ForwardRef text and get PyYAML's pattern of non-printable characters from `re`'s cache (see the module's
    text); everything as it was after it."""
    seed_yaml_pattern()
    missing = object()
    before = typing.__dict__.get("compile", missing)
    typing.compile = _compile_text  # type: ignore[attr-defined]
    try:
        with gc_paused():
            yield
    finally:
        if before is missing:
            del typing.compile  # type: ignore[attr-defined]
        else:
            typing.compile = before  # type: ignore[attr-defined]


_CODES: dict[tuple[str, str, str], CodeType] = {}


def _compile_text(source: Any, filename: Any, mode: Any, *args: Any, **kwargs: Any) -> Any:
    """`compile`, keeping the code of each (text, filename, mode) it compiled without further arguments."""
    if args or kwargs or type(source) is not str or type(filename) is not str or type(mode) is not str:
        return compile(source, filename, mode, *args, **kwargs)
    key = (source, filename, mode)
    code = _CODES.get(key)
    if code is None:
        code = _CODES[key] = compile(source, filename, mode)
    return code


def seed_yaml_pattern() -> None:
    """PyYAML's `re.compile(YAML_NON_PRINTABLE)` answered from `re`'s cache (before yaml.reader loads)."""
    if "yaml.reader" not in sys.modules:
        seed_pattern(YAML_NON_PRINTABLE, YAML_NON_PRINTABLE_RANGES)


def seed_pattern(text: str, ranges: str) -> None:
    """`re.compile(text)` (and `re.sub(text, ...)`) answered from `re`'s cache with `ranges`, a pattern of the
    same characters that compiles quickly, when this Python's `re` keeps its cache in `re._cache` keyed by
    (type, text, flags), as 3.11-3.13 do; a pattern compiled already stays."""
    cache = getattr(re, "_cache", None)
    if isinstance(cache, dict):
        cache.setdefault((str, text, 0), re.compile(ranges))
