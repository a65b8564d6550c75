"""Where a `backups:` entry's backups live: the interface one source implements (local, ssh, s3, a tool's
repository).

A source is one module holding one `BackupSource` subclass. The registry (`sources.registry`) lists the
built-ins and those of installed packages (entry-point group `opsverify.backup_sources`, each entry point
naming a subclass). The backups check and the restore drill only talk to this interface:

    with open_source(entry, base_dir) as source:      # connects (SourceError when it cannot)
        listing = source.list(entry.pattern, entry.ignore)   # complete backups, newest first
        source.settle(listing, entry.settle)           # set aside a newest backup still being written
        inspection = source.inspect(newest)            # the full read: format, sha256, defects
        checksum = source.checksum(newest, inspection) # the sidecar (or the store's own checksum)
        moved = source.changed(newest)                 # None, or why the backup changed meanwhile

Writing one (e.g. `s3://bucket/prefix/`):

- set `name` (the registry key) and how an entry picks it: `schemes = ("s3",)` for a `path:` URL scheme,
  or `block = "s3"` for a key of the entry (the config model must have that key), or override `claims`;
- implement `list` (name, size, mtime of every candidate; `BackupFile.path` is a `PurePosixPath` of the
  object's key when it is not a local file), `stat`, `open` (a streaming read) and `describe`;
- the defaults do the rest: `fetch` copies `open`'s stream into a local file, `inspect` fetches into a
  temporary folder and runs the format's full read there. Override `inspect` to read the stream once
  without a copy, and `fetch` when the store has a faster download;
- raise `SourceError` with a sentence naming the place and the fix ("bucket codebook-backups does not
  exist (endpoint …): is `path` right?") for every expected failure; never let a client's exception out.
  Every network call needs a timeout.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from abc import ABC, abstractmethod
from pathlib import Path, PurePath, PurePosixPath
from types import TracebackType
from typing import IO, TYPE_CHECKING, ClassVar, Protocol

from opsverify.backups.checksum import ChecksumResult
from opsverify.backups.files import BackupFile, Listing
from opsverify.backups.inspection import Inspection
from opsverify.backups.integrity import inspect_backup
from opsverify.units import format_size

if TYPE_CHECKING:
    from opsverify.connect import Via

COPY_CHUNK = 1 << 20


class SourceError(Exception):
    """An expected failure of a source (missing folder or bucket, refused connection, denied access): the
    message is shown as the check's problem, so it names the place and the fix."""


class BackupEntry(Protocol):
    """What a source reads of a `backups:` entry (the config model `BackupCheck` is one). A source with its
    own block reads it with `getattr(entry, "<block>")`."""

    @property
    def path(self) -> str: ...
    @property
    def pattern(self) -> str: ...
    @property
    def ignore(self) -> list[str]: ...
    @property
    def settle(self) -> float: ...
    @property
    def format(self) -> str: ...
    @property
    def checksum(self) -> str: ...
    @property
    def items_path(self) -> str | None: ...
    @property
    def client_bin(self) -> str | None: ...
    @property
    def verify_timeout(self) -> float: ...
    @property
    def via(self) -> Via | None: ...


class BackupSource(ABC):
    """Where one entry's backups live. Used as a context manager: `__enter__` connects, `__exit__` closes."""

    name: ClassVar[str]
    """The registry key, shown in messages: local, ssh, s3."""
    schemes: ClassVar[tuple[str, ...]] = ()
    """`path:` URL schemes that pick this source (`s3` for `s3://bucket/prefix/`)."""
    block: ClassVar[str | None] = None
    """An entry key that picks this source when set (`pgbackrest:`)."""

    def __init__(self, entry: BackupEntry, base_dir: Path) -> None:
        self.entry = entry
        self.base_dir = base_dir
        self.location: PurePath = PurePosixPath(entry.path)
        """The folder or prefix the listing is of, as reports name it (`folder …, pattern …`)."""
        self.place: str | None = None
        """A place that is not a folder path (`s3://bucket/prefix/ at http://…`), as reports name it instead."""

    @classmethod
    def claims(cls, entry: BackupEntry) -> bool:
        """Whether `entry` is for this source: its `path` has one of `schemes`, or its `block` is set."""
        scheme = entry.path.split("://", 1)[0].lower() if "://" in entry.path else None
        if scheme is not None and scheme in cls.schemes:
            return True
        return cls.block is not None and getattr(entry, cls.block, None) is not None

    def __enter__(self) -> BackupSource:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:  # noqa: B027 - optional hook: a source without connections needs none
        """Release connections and temporary files (called once, also after a failure)."""

    @abstractmethod
    def describe(self) -> str:
        """Where the backups are, for messages: `folder /srv/backups on ssh://backup@db1`."""

    @abstractmethod
    def list(self, pattern: str, ignore: list[str]) -> Listing:
        """Every backup whose name matches `pattern` (a glob of the last path part), newest first by mtime
        (then name); names matching `ignore` globs go to `in_progress`, other names to `other_names`.
        Raise SourceError when the place does not exist or cannot be listed."""

    def settle(self, listing: Listing, seconds: float) -> None:  # noqa: B027 - optional, see docstring
        """Set aside a newest backup that is still being written (changes within `seconds`). Default: a
        store whose objects appear whole (S3) has nothing to wait for."""

    @abstractmethod
    def stat(self, backup: BackupFile) -> BackupFile | None:
        """The backup as it is now (size, mtime), None when it is gone."""

    @abstractmethod
    def open(self, backup: BackupFile) -> IO[bytes]:
        """A streaming read of the backup from its first byte (closed by the caller; use `with`)."""

    def fetch(self, backup: BackupFile, workdir: Path) -> Path:
        """The backup as a local, seekable file inside `workdir` (for formats that need one: pg-custom with
        jobs, pg-directory, SQLite). Default: copy `open`'s stream; a local source returns the file itself."""
        local = workdir / PurePosixPath(str(backup.path)).name
        with self.open(backup) as stream, local.open("wb") as out:
            shutil.copyfileobj(stream, out, COPY_CHUNK)
        return local

    def inspect(self, backup: BackupFile) -> Inspection:
        """The full read of the backup by its format (sha256 on the way). Default: fetch into a temporary
        folder, then the local read. Never raises for a broken backup; raise SourceError for a failed read."""
        entry = self.entry
        with tempfile.TemporaryDirectory(prefix="opsverify-fetch-") as workdir:
            started = time.monotonic()
            local = self.fetch(backup, Path(workdir))
            fetched = BackupFile(local, local.stat().st_size, backup.mtime)
            inspection = inspect_backup(
                fetched,
                declared=entry.format,
                items_path=entry.items_path,
                client_bin=entry.client_bin,
                hash_file=entry.checksum != "off",
            )
            inspection.seconds = time.monotonic() - started
        return inspection

    def checksum(self, backup: BackupFile, inspection: Inspection) -> ChecksumResult:
        """The backup's recorded checksum against the one the read computed. Default: no sidecar known
        (`checksum: required` then fails, saying so); override for `.sha256` sidecars or a store's own."""
        return ChecksumResult(None)

    def changed(self, backup: BackupFile) -> str | None:
        """Why the backup is not the one that was read (changed or gone meanwhile), or None."""
        after = self.stat(backup)
        if after is None:
            return f"newest backup {backup.name} was deleted while it was being checked"
        if (after.size, after.mtime) != (backup.size, backup.mtime):
            return (
                f"newest backup {backup.name} changed while it was being checked ({format_size(backup.size)} "
                f"-> {format_size(after.size)}): it is still being written; the writer should write to "
                "NAME.tmp and rename when done"
            )
        return None
