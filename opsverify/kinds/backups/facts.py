"""What the daily backup probe observed: the folder's backups and what reading the newest one found (a leaf)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from opsverify.backups.checksum import ChecksumResult
from opsverify.backups.files import BackupFile, Skipped
from opsverify.backups.integrity import Inspection
from opsverify.kinds.base import Phase
from opsverify.units import format_duration, format_size, plural


@dataclass
class BackupFacts:
    """What the backup folder holds and what reading the newest backup found."""

    directory: Path
    pattern: str
    checked_at: float = field(default_factory=time.time)
    files: list[BackupFile] = field(default_factory=list)
    in_progress: list[Skipped] = field(default_factory=list)
    other_names: list[str] = field(default_factory=list)
    inspection: Inspection | None = None
    checksum: ChecksumResult | None = None
    changed_during_check: str | None = None
    error: str | None = None
    seconds: float = 0.0
    location: str | None = None  # a bucket prefix (s3://bucket/prefix/) instead of `directory`

    @property
    def place(self) -> str:
        return self.location or str(self.directory)

    @property
    def newest(self) -> BackupFile | None:
        return self.files[0] if self.files else None

    @property
    def previous(self) -> BackupFile | None:
        return self.files[1] if len(self.files) > 1 else None

    def size_baseline(self, count: int) -> tuple[float, list[BackupFile]] | None:
        """The median size of the `count` backups before the newest (and those backups); None without any."""
        earlier = self.files[1 : 1 + count]
        if not earlier:
            return None
        sizes = sorted(b.size for b in earlier)
        middle = len(sizes) // 2
        median = sizes[middle] if len(sizes) % 2 else (sizes[middle - 1] + sizes[middle]) / 2
        return float(median), earlier

    def in_progress_note(self) -> str:
        if not self.in_progress:
            return ""
        listed = ", ".join(f"{s.name} ({s.reason})" for s in self.in_progress[:3])
        return f"; ignored as incomplete: {listed}"

    def describe_empty(self) -> str:
        if self.in_progress:
            return (
                f"no complete backup in {self.place} matches {self.pattern}: only files still being written "
                f"({', '.join(f'{s.name}: {s.reason}' for s in self.in_progress[:3])}); if the job finished, "
                "it did not rename its output"
            )
        others = f" (it holds {plural(len(self.other_names), 'other entry')}, e.g. {', '.join(self.other_names[:3])})"
        return (
            f"no backup in {self.place} matches {self.pattern}"
            f"{others if self.other_names else self._empty()}: is the backup job running, "
            "and are `path` and `pattern` right?"
        )

    def _empty(self) -> str:
        return " (the prefix holds no objects)" if self.location else " (the folder is empty)"

    def phases(self) -> list[Phase]:
        """Find the newest backup, read it (and its checksum), check its format, see it did not change."""
        find = f"find the newest backup in {self.place} ({self.pattern})"
        if self.error is not None:
            return [Phase(find, False, self.error)]
        newest = self.newest
        if newest is None:
            return [Phase(find, False, "no complete backup matches" + self.in_progress_note())]
        found = f"{newest.name}, {format_size(newest.size)}, {format_duration(self.checked_at - newest.mtime)} old"
        counted = plural(len(self.files), "backup")
        phases = [Phase(find, True, f"{found} ({counted}){self.in_progress_note()}")]
        inspection = self.inspection
        if inspection is None:
            return phases
        inflated = f", {format_size(inspection.inflated_bytes)} inflated" if inspection.inflated_bytes else ""
        read = f"{format_size(inspection.bytes_read)} read{inflated}"
        phases.append(Phase(f"read {newest.name}", True, read, inspection.seconds))
        if self.checksum is not None:
            phases.append(self._checksum_phase(self.checksum))
        defects = "; ".join(inspection.defects)
        phases.append(Phase("check the format", not defects, defects or inspection.summary()))
        if self.changed_during_check is not None:
            phases.append(Phase("unchanged while read", False, self.changed_during_check))
        else:
            phases.append(Phase("unchanged while read", True, "same size and modification time"))
        return phases

    @staticmethod
    def _checksum_phase(checksum: ChecksumResult) -> Phase:
        if checksum.sidecar is None:
            return Phase("checksum", True, "no .sha256 sidecar")
        name = f"checksum {checksum.sidecar.name}"
        if checksum.error:
            return Phase(name, False, checksum.error)
        mismatched = checksum.mismatched()
        if mismatched:
            return Phase(name, False, f"does not match: {', '.join(mismatched[:5])}")
        return Phase(
            name, checksum.verified, "verified" if checksum.verified else "the sidecar lists no hash"
        )

    def evidence(self) -> str:
        """Lines shown under a failed check and attached to the report."""
        lines = [
            f"{'prefix' if self.location else 'folder'} {self.place}, pattern {self.pattern}: {plural(len(self.files), 'backup')}"
        ]
        for backup in self.files[:5]:
            lines.append(
                f"  {backup.name}  {format_size(backup.size)}  {format_duration(self.checked_at - backup.mtime)} old"
            )
        if len(self.files) > 5:
            lines.append(f"  ... {len(self.files) - 5} older")
        for skipped in self.in_progress:
            lines.append(f"  ignored {skipped.name}: {skipped.reason}")
        if self.inspection is not None:
            lines.append(f"newest: {self.inspection.summary()}")
        if self.checksum is not None and self.checksum.sidecar is not None:
            state = "verified" if self.checksum.verified else "NOT verified"
            lines.append(f"checksum {self.checksum.sidecar.name}: {state}")
        return "\n".join(lines)
