"""The JSON state files of earlier versions (`notify-<target>.json`), imported into the store on first run."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from opsverify.state.model import CheckState, NotifyState


def legacy_file(directory: Path, target: str) -> Path:
    return directory / f"notify-{target}.json"


def read_legacy(path: Path) -> NotifyState:
    """Read a JSON state file; a missing or unreadable file is an empty state (it must not stop alerts)."""
    state = NotifyState()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return state
    for key, value in (data.get("checks") or {}).items() if isinstance(data, dict) else ():
        if isinstance(value, dict):
            known = {k: v for k, v in value.items() if k in CheckState.__dataclass_fields__}
            with contextlib.suppress(TypeError):
                state.checks[str(key)] = CheckState(**known)
    return state


def legacy_targets(directory: Path) -> dict[str, NotifyState]:
    """Every `notify-<target>.json` in the folder, by target."""
    found: dict[str, NotifyState] = {}
    if directory.is_dir():
        for path in sorted(directory.glob("notify-*.json")):
            found[path.stem.removeprefix("notify-")] = read_legacy(path)
    return found
