"""The restored copy a drill verifies, and the hooks tests and tooling use to watch the drill."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from opsverify.drills.sandbox import Sandbox

RestoredKind = Literal["postgres", "mysql", "sqlite", "files"]


@dataclass
class DrillHooks:
    """Callbacks for tests and tooling: restore progress (bytes streamed so far) and the started sandbox."""

    on_sandbox_ready: Callable[[Sandbox], None] | None = None
    on_restore_progress: Callable[[Sandbox | None, int], None] | None = None


@dataclass
class Restored:
    """The restored copy, while the sandbox is up: a database URL, an SQLite file or an extracted folder."""

    kind: RestoredKind
    url: str | None = None
    path: Path | None = None
    files: int | None = None
