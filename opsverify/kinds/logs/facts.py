"""Facts of a `logs:` check: the files scanned, the matching lines kept, what could not be read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from opsverify.kinds.base import Phase
from opsverify.units import plural


@dataclass(frozen=True)
class LogLine:
    file: str
    number: int
    text: str


@dataclass
class LogsFacts:
    globs: list[str]
    files: list[str] = field(default_factory=list)  # scanned, oldest first
    skipped: list[str] = field(default_factory=list)  # last written before the window
    unreadable: dict[str, str] = field(default_factory=dict)
    count: int = 0
    matches: list[LogLine] = field(default_factory=list)  # the first `show` matching lines
    untimed: int = 0  # matching lines without a readable timestamp (counted as in the window)
    lines_read: int = 0
    json_checked: int = 0
    not_json: int = 0
    window_start: datetime | None = None
    error: str | None = None
    elapsed_ms: float = 0.0

    def phases(self) -> list[Phase]:
        """Find the files, each unreadable one, the scan, the matching lines."""
        skipped = f", {len(self.skipped)} skipped (last written before the window)" if self.skipped else ""
        phases = [
            Phase(
                f"find {', '.join(self.globs)}",
                self.error is None,
                self.error or f"{plural(len(self.files), 'file')}{skipped}",
            )
        ]
        if self.error is not None:
            return phases
        phases += [Phase(f"read {name}", False, reason) for name, reason in self.unreadable.items()]
        not_json = (
            f"; {self.not_json} of {plural(self.json_checked, 'line')} checked "
            f"{'is not a JSON object' if self.not_json == 1 else 'are not JSON objects'}"
            if self.not_json
            else ""
        )
        read = len(self.files) - len(self.unreadable)
        scanned = f"{plural(self.lines_read, 'line')} in {plural(read, 'file')}{not_json}"
        phases.append(Phase("scan", True, scanned, self.elapsed_ms / 1000))
        untimed = f" ({self.untimed} without a readable timestamp, counted)" if self.untimed else ""
        phases.append(Phase("matching lines", True, f"{self.count}{untimed}"))
        return phases

    def evidence(self) -> str:
        """The matching lines (first ones) and what was scanned; the caller redacts."""
        lines = [f"{line.file}:{line.number}: {line.text}" for line in self.matches]
        if self.count > len(self.matches):
            lines.append(f"… and {self.count - len(self.matches)} more matching lines")
        scanned = (
            f"scanned {plural(len(self.files), 'file')}, {plural(self.lines_read, 'line')} "
            f"in {self.elapsed_ms:.0f} ms"
        )
        if self.skipped:
            scanned += f"; skipped {len(self.skipped)} older than the window"
        if self.untimed:
            untimed = "line had" if self.untimed == 1 else "lines had"
            scanned += f"; {self.untimed} matching {untimed} no readable timestamp (counted)"
        return "\n".join([*lines, scanned, *(f"  {name}" for name in self.files[:10])])
