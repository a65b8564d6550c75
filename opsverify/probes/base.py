"""What every probe receives besides its entry."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ProbeContext:
    """The target a probe runs for: its name (for messages) and directory (for relative paths)."""

    target_name: str
    base_dir: Path = field(default_factory=Path.cwd)
    target: Any = field(
        default=None, compare=False, repr=False
    )  # the LoadedTarget, for probes needing other sections
    entry_name: str = ""  # the entry's name in its section (for evidence records)

    def path(self, value: str | Path) -> Path:
        """A path from the target file, relative to the target file's directory."""
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.base_dir / path
