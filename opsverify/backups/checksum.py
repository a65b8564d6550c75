"""`<backup>.sha256` sidecars: a bare hash or `sha256sum` output, compared with the hash of the one read."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

_HASH_LINE = re.compile(r"^\\?([0-9a-fA-F]{64})(?:\s+\*?(.+?))?\s*$")
SIDECAR_SUFFIX = ".sha256"


@dataclass
class ChecksumResult:
    """The sidecar's claim and what the file hashed to. `expected` maps a file (relative) to its hash."""

    sidecar: Path | None
    expected: dict[str, str] = field(default_factory=dict)
    actual: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    algorithm: str = "sha256"

    @property
    def verified(self) -> bool:
        return bool(self.expected) and self.error is None and not self.mismatched()

    def mismatched(self) -> list[str]:
        return [name for name, value in self.expected.items() if self.actual.get(name) != value]

    def problems(self, required: bool) -> list[str]:
        if self.sidecar is None:
            if required:
                return [
                    "checksum: required, but there is no .sha256 sidecar; write one after each backup "
                    "with `sha256sum FILE > FILE.sha256`"
                ]
            return []
        if self.error:
            return [f"checksum: {self.error}"]
        problems = []
        for name in self.mismatched():
            actual = self.actual.get(name)
            if actual is None:
                problems.append(
                    f"checksum: {self.sidecar.name} lists {name}, which the backup does not contain"
                )
                continue
            problems.append(
                f"{self.algorithm} mismatch{'' if name == '' else f' for {name}'}: {self.sidecar.name} says "
                f"{self.expected[name][:16]}…, the file hashes to {actual[:16]}…: the backup changed or was "
                "corrupted after it was written (bad disk, partial copy, tampering)"
            )
        return problems


def find_sidecar(backup: Path) -> Path | None:
    sidecar = backup.with_name(backup.name + SIDECAR_SUFFIX)
    return sidecar if sidecar.is_file() else None


def read_sidecar(sidecar: Path, backup: Path) -> ChecksumResult:
    """Parse a sidecar: one bare hash (key ''), or sha256sum lines `HASH  name` (key: name, '' for the backup)."""
    try:
        text = sidecar.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return ChecksumResult(sidecar, error=f"cannot read {sidecar.name}: {exc.strerror or exc}")
    return parse_sidecar(text, sidecar, backup)


def parse_sidecar(text: str, sidecar: Path, backup: Path) -> ChecksumResult:
    """`read_sidecar` of text already read (e.g. a sidecar object from a bucket)."""
    result = ChecksumResult(sidecar)
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _HASH_LINE.match(line)
        if not match:
            result.error = (
                f"{sidecar.name}:{number}: expected a sha256 hash (64 hex digits) or `sha256sum` output, "
                f"got {line[:80]!r}"
            )
            return result
        digest, name = match.group(1).lower(), (match.group(2) or "").strip()
        result.expected[_relative(name, backup)] = digest
    if not result.expected:
        result.error = f"{sidecar.name} is empty; expected the backup's sha256 hash"
    return result


def _relative(name: str, backup: Path) -> str:
    """'' for the backup itself; a path inside the backup directory for pg_dump -Fd sidecars."""
    if not name or Path(name).name == backup.name:
        return ""
    parts = Path(name).parts
    if backup.name in parts:
        return str(Path(*parts[parts.index(backup.name) + 1 :]))
    return name if backup.is_dir() else ""


def hash_directory_files(directory: Path, names: list[str]) -> dict[str, str]:
    """sha256 of the listed files inside a backup directory (a second read; page cache makes it cheap)."""
    hashes: dict[str, str] = {}
    for name in names:
        path = directory / name
        if not path.is_file():
            continue
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        hashes[name] = digest.hexdigest()
    return hashes
