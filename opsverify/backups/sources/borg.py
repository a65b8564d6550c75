"""Backups in a Borg repository (`borg:` of a backups entry): the archives are the backups.

An archive counts when its name starts with `prefix`; the backup read in it is the newest file under `path`
(a folder inside the archive) matching `pattern`. Freshness and retention come from `borg list --json`, the
file from `borg list --json-lines`, the read (and the drill's copy) from `borg extract --stdout`, integrity
from `borg check` (`verify-data` deep, `repository-only` a cheaper daily tier). The passphrase reaches borg
only as BORG_PASSPHRASE. Listing and reading use `--bypass-lock` (read only); a lock held by a running borg
(its cache lock) still stops them after `lock_wait`, named as such. opsverify never breaks a lock (borg
itself removes a lock of a process that died on this same host).
"""

from __future__ import annotations

import builtins
import datetime as dt
import fnmatch
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any, cast

from opsverify.backups.files import BackupFile, Listing
from opsverify.backups.sources.base import BackupEntry, SourceError
from opsverify.backups.sources.tool_run import Tool, ToolSource, error_lines, output_text

BORG = Tool("borg", "borgbackup", ("BORG_PASSPHRASE",))
CHECK_ARGS = {"repository-only": ["--repository-only"], "full": [], "verify-data": ["--verify-data"]}


@dataclass(frozen=True)
class BorgRepo:
    """The `borg:` block as the source uses it (built by the config model's `repo()`)."""

    repository: str
    passphrase: str
    prefix: str = ""
    check: str = "full"
    bin: str | None = None
    timeout: float = 600.0
    check_timeout: float = 3600.0
    lock_wait: float = 5.0


@dataclass(frozen=True)
class ArchiveFile(BackupFile):
    """A file inside a Borg archive: `path` is its path there, `mtime` the archive's time."""

    archive: str = ""

    @property
    def name(self) -> str:
        return f"{PurePosixPath(str(self.path)).name} (archive {self.archive})"


class BorgSource(ToolSource):
    """A Borg repository: a folder or `ssh://user@host/path`."""

    name = "borg"
    block = "borg"
    tool = BORG
    snapshots = "archives"
    ok_codes = (0, 1)

    def __init__(self, entry: BackupEntry, base_dir: Path) -> None:
        self.repo: BorgRepo = getattr(entry, "borg").repo()  # noqa: B009 - the block is the source's key
        super().__init__(entry, base_dir, self.repo)

    def _env(self) -> dict[str, str]:
        return {"BORG_REPO": self.repo.repository, "BORG_PASSPHRASE": self.repo.passphrase}

    def _arguments(self, args: builtins.list[str]) -> builtins.list[str]:
        return [f"--lock-wait={math.ceil(self.repo.lock_wait)}", *args]

    def _failure(self, stderr: bytes, what: str) -> str:
        """borg's failure text as a sentence with the fix (the passphrase masked, never shown)."""
        text = output_text(stderr, [self.repo.passphrase])
        place = self.place
        if "passphrase supplied" in text and "is incorrect" in text:
            return (
                f"{place}: wrong passphrase (borg: the passphrase in BORG_PASSPHRASE is incorrect): set the "
                "repository's passphrase in the variable given to `passphrase` (e.g. BORG_PASSPHRASE)"
            )
        if re.search(r"Repository \S+ does not exist", text) or "is not a valid repository" in text:
            return f"{place} does not exist: is `repository` right? (`borg init` makes one)"
        if "Failed to create/acquire the lock" in text:
            return (
                f"{place} is locked (borg waited {math.ceil(self.repo.lock_wait)}s for its lock): a borg run is still "
                "going, or one on another host crashed and left its lock; when none is running, remove it with "
                "`borg break-lock` (opsverify never removes locks)"
            )
        return f"{place}: borg failed while {what}: {error_lines(text)}"

    def _ok(self, args: builtins.list[str], what: str) -> bytes:
        done = self._run(args, what)
        if done.returncode not in (0, 1):  # 1: warnings only
            raise SourceError(self._failure(done.stderr, what))
        return done.stdout

    def list(self, pattern: str, ignore: builtins.list[str]) -> Listing:
        args = ["list", "--json", "--bypass-lock"]
        if self.repo.prefix:
            args.append(f"--glob-archives={self.repo.prefix}*")
        try:
            document = json.loads(self._ok([*args, "::"], "listing archives") or b"{}")
        except ValueError:
            raise SourceError(f"{self.place}: `borg list --json` did not answer JSON") from None
        archives = [a for a in document.get("archives", []) if isinstance(a, dict)]
        archives.sort(key=lambda a: (str(a.get("time", "")), str(a.get("name", ""))), reverse=True)
        listing = Listing(cast(Path, self.location), pattern)
        size_history = getattr(self.entry, "size_history", 5)
        for index, archive in enumerate(archives):
            name, when = str(archive.get("name", "")), _archive_time(archive)
            if index > size_history:  # only the newest ones' sizes are compared; the rest count and age
                listing.complete.append(ArchiveFile(cast(Path, self.location), 0, when, archive=name))
                continue
            found = self._newest_file(name, pattern, ignore)
            if found is None:
                listing.other_names.append(
                    f"archive {name} (no file matching {pattern} in {self.entry.path})"
                )
                continue
            listing.complete.append(ArchiveFile(cast(Path, found[0]), found[1], when, archive=name))
        return listing

    def _newest_file(
        self, archive: str, pattern: str, ignore: builtins.list[str]
    ) -> tuple[PurePosixPath, int] | None:
        folder = PurePosixPath(self.entry.path.strip("/") or ".")
        out = self._ok(
            ["list", "--json-lines", "--bypass-lock", f"::{archive}", str(folder)],
            f"listing archive {archive}",
        )
        best: tuple[str, PurePosixPath, int] | None = None
        for line in out.splitlines():
            try:
                item: dict[str, Any] = json.loads(line) if line.strip().startswith(b"{") else {}
            except ValueError:
                raise SourceError(
                    f"{self.place}: borg did not answer JSON listing archive {archive}"
                ) from None
            path = PurePosixPath(str(item.get("path", "")))
            if item.get("type") != "-" or path.parent != folder or not fnmatch.fnmatch(path.name, pattern):
                continue
            if any(fnmatch.fnmatch(path.name, glob) for glob in ignore):
                continue
            key = (str(item.get("mtime", "")), path, int(item.get("size", 0)))
            if best is None or key[:2] > best[:2]:
                best = key
        return None if best is None else (best[1], best[2])

    def open(self, backup: BackupFile) -> IO[bytes]:
        raise SourceError(
            "borg archives are read with `fetch` (borg extract --stdout into a temporary folder)"
        )

    def snapshot_name(self, backup: BackupFile) -> str:
        return _archive_of(backup)

    def _dump_args(self, backup: BackupFile) -> builtins.list[str]:
        return ["extract", "--stdout", "--bypass-lock", f"::{_archive_of(backup)}", str(backup.path)]

    def _restore_args(self, backup: BackupFile, into: Path) -> tuple[builtins.list[str], Path]:
        folder = self.entry.path.strip("/")
        return ["extract", "--bypass-lock", f"::{_archive_of(backup)}", folder], into / folder

    def check_repository(self, tier: str | None = None) -> str | None:
        """What `borg check` reports wrong (its own text), or None when it finds no errors."""
        chosen = tier or self.repo.check
        args = ["check", *CHECK_ARGS[chosen], "::"]
        done = self._run(args, "checking the repository", timeout=self.repo.check_timeout)
        if done.returncode == 0:
            return None
        text = output_text(done.stderr, [self.repo.passphrase])
        if "passphrase supplied" in text or "does not exist" in text or "Failed to create/acquire" in text:
            return self._failure(done.stderr, "checking the repository")
        return (
            f"borg check ({chosen}) of {self.repo.repository} found errors: {error_lines(text)}; "
            "run `borg check --verify-data`, then `borg check --repair` on a copy, and take a new backup"
        )


def _archive_time(archive: dict[str, Any]) -> float:
    """borg prints local time without a zone: read it as local time."""
    text = str(archive.get("time", ""))
    try:
        return dt.datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise SourceError(f"borg archive {archive.get('name', '?')}: unexpected time {text!r}") from None


def _archive_of(backup: BackupFile) -> str:
    if not isinstance(backup, ArchiveFile) or not backup.archive:
        raise SourceError(f"{backup.name} was not listed from a borg repository")
    return backup.archive
