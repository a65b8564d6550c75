"""JSON backups (e.g. an application-level vector index export): parses, and counts its items."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opsverify.backups.stream import read_once
from opsverify.expressions import lookup_path


@dataclass
class JsonRead:
    bytes_read: int = 0
    sha256: str | None = None
    items: int | None = None
    error: str | None = None

    def defects(self) -> list[str]:
        return [self.error] if self.error else []


def read_json(path: Path, *, gzip: bool, items_path: str | None, hash_file: bool = True) -> JsonRead:
    """Parse the whole document (held in memory) and count the list or object at `items_path` (default: top)."""
    content = io.BytesIO()
    stream = read_once(path, gzip=gzip, sinks=[content], hash_file=hash_file)
    result = JsonRead(stream.bytes_read, stream.sha256)
    if stream.gzip_error:
        result.error = stream.gzip_error
        return result
    try:
        document = json.loads(content.getvalue())
    except UnicodeDecodeError as exc:
        result.error = f"not valid JSON: not UTF-8 text ({exc.reason} at byte {exc.start})"
    except json.JSONDecodeError as exc:
        result.error = f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno} (the file is cut short or corrupt)"
    else:
        result.items, result.error = _count_items(document, items_path)
    return result


def _count_items(document: Any, items_path: str | None) -> tuple[int | None, str | None]:
    target = document
    if items_path:
        found, target = lookup_path(document, items_path)
        if not found:
            return None, f"items_path {items_path!r} is not in the document"
    if isinstance(target, list | dict):
        return len(target), None
    where = f"at {items_path!r}" if items_path else "at the top level"
    return None, f"expected a list or an object {where}, got {type(target).__name__}"
