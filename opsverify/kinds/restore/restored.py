"""The restored copy a drill verifies, and the hooks tests and tooling use to watch the drill."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from opsverify.drills.sandbox import Sandbox

if TYPE_CHECKING:
    from opsverify.kinds.restore.facts import DrillFacts, DrillStep
    from opsverify.kinds.restore.teardown import Teardown

RestoredKind = Literal["postgres", "mysql", "sqlite", "files"]


@dataclass
class DrillHooks:
    """Callbacks for tests and tooling: restore progress (bytes streamed so far) and the started sandbox."""

    on_sandbox_ready: Callable[[Sandbox], None] | None = None
    on_restore_progress: Callable[[Sandbox | None, int], None] | None = None

    def progress_of(self, sandbox: Sandbox | None) -> Callable[[int], None]:
        """The restore's progress callback (bytes written so far) for `sandbox`: calls `on_restore_progress`."""
        on_progress = self.on_restore_progress

        def progress(written: int) -> None:
            if on_progress is not None:
                on_progress(sandbox, written)

        return progress


@dataclass
class Restored:
    """The restored copy, while the sandbox is up: a database URL, an SQLite file or an extracted folder."""

    kind: RestoredKind
    url: str | None = None
    path: Path | None = None
    files: int | None = None


class DrillDatabaseLike(Protocol):
    """A drill's throwaway database in a sandbox (PostgreSQL's and MySQL's have this shape)."""

    name: str
    reaped: list[str]

    def create(self) -> None: ...

    def drop(self) -> str | None: ...


def open_drill_database(
    database: DrillDatabaseLike,
    sandbox: Sandbox,
    facts: DrillFacts,
    teardown: Teardown,
    step: DrillStep,
    hooks: DrillHooks,
) -> None:
    """Create the drill database in the started `sandbox` (dropped at teardown unless the sandbox goes whole),
    record it in the facts and the sandbox step, and tell the hooks the sandbox is ready."""
    facts.database = database.name
    if not sandbox.disposable:
        teardown.add(f"drop {database.name}", database.drop)
    database.create()
    facts.reaped += database.reaped
    step.detail = facts.sandbox_detail or ""
    if hooks.on_sandbox_ready is not None:
        hooks.on_sandbox_ready(sandbox)
