"""What every probe receives besides its entry, and the phases its facts report (nested report steps)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable


@dataclass
class ProbeProgress:
    """What a running probe has done so far, for the lines a long wait prints (opsverify.pytest_plugin.progress)."""

    started: float | None = None  # time.monotonic() when the probe started
    last: str = (
        ""  # what a probe that polls saw last ("status: expected 200, got 503"), redacted by the reader
    )


class ProbeStopped(Exception):
    """The run is stopping (Ctrl-C, SIGTERM): a probe waiting or polling gives up; nobody reads its facts."""


@dataclass(frozen=True)
class ProbeContext:
    """The target a probe runs for: its name (for messages) and directory (for relative paths)."""

    target_name: str
    base_dir: Path = field(default_factory=Path.cwd)
    target: Any = field(
        default=None, compare=False, repr=False
    )  # the LoadedTarget, for probes needing other sections
    entry_name: str = ""  # the entry's name in its section (for evidence records)
    # Set when the run is stopping (Ctrl-C, SIGTERM): a probe's pauses end at once and it gives up.
    stop: threading.Event = field(default_factory=threading.Event, compare=False, repr=False)
    progress: ProbeProgress = field(default_factory=ProbeProgress, compare=False, repr=False)

    def pause(self, seconds: float) -> None:
        """Sleep `seconds`, or raise ProbeStopped as soon as the run is stopping."""
        if self.stop.wait(seconds):
            raise ProbeStopped("the run was interrupted")

    def path(self, value: str | Path) -> Path:
        """A path from the target file, relative to the target file's directory."""
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.base_dir / path


@dataclass(frozen=True)
class Phase:
    """One step of what a probe did, derived after the fact from its facts (the report nests it as a step).

    `ok` is false when the probe could not do the step, or the step's own check failed (a chain that does
    not verify, a checksum that does not match); whether values meet the target file is the verify step's job.
    """

    name: str
    ok: bool
    detail: str = ""
    seconds: float | None = None

    def title(self) -> str:
        """`name: detail (12 ms)`, the step's title in the report (the caller redacts)."""
        text = f"{self.name}: {self.detail}" if self.detail else self.name
        if self.seconds is not None:
            text += f" ({self.seconds * 1000:.0f} ms)" if self.seconds < 10 else f" ({self.seconds:.1f} s)"
        return text


@runtime_checkable
class HasPhases(Protocol):
    """Facts that can list the phases of the probe that produced them."""

    def phases(self) -> list[Phase]: ...
