"""`latest_backup`: the newest backup of a `backups:` entry wherever it lives (a folder here or over SSH, a
bucket, a restic, borg or pgBackRest repository), found and read through the entry's backup source.

The source stays open until the test ends, so the test can stream the backup (`open()`) or have it as a
local file (`download()`: a temporary copy, removed when the test ends; a file here is its own copy).
"""

from __future__ import annotations

import shutil
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path, PurePath, PurePosixPath
from typing import IO, TYPE_CHECKING, NoReturn

import pytest

from opsverify.backups.formats import FormatError, detect_format, detect_head
from opsverify.backups.sources import BackupSource, SourceError, open_source
from opsverify.backups.sources.local import LocalSource
from opsverify.backups.sources.tool_run import ToolSource
from opsverify.kinds.backups.probe import find_in
from opsverify.redaction import redact

if TYPE_CHECKING:
    from opsverify.backups.files import BackupFile
    from opsverify.kinds.backups.model import BackupCheck

HEAD_BYTES = 65536  # what format detection reads of a backup's first bytes
DOWNLOAD_PREFIX = "opsverify-latest-backup-"


def _fail(message: str) -> NoReturn:
    __tracebackhide__ = True
    pytest.fail(redact(message), pytrace=False)


class _Reader:
    """Reads one backup of an open source; what it downloads is removed when the test ends."""

    def __init__(
        self, key: str, source: BackupSource, backup: BackupFile, declared: str, stack: ExitStack
    ) -> None:
        self.key, self.source, self.backup, self.declared, self.stack = key, source, backup, declared, stack
        self.local: Path | None = None
        self.label: str | None = None

    def open(self) -> IO[bytes]:
        if isinstance(self.source, ToolSource):  # restic dump / borg extract: read from the downloaded copy
            return self.download().open("rb")
        try:
            return self.source.open(self.backup)
        except (SourceError, OSError) as exc:
            _fail(f"backups:{self.key}: cannot read {self.backup.name} in {self.source.describe()}: {exc}")

    def download(self) -> Path:
        if self.local is not None:
            return self.local
        folder = Path(tempfile.mkdtemp(prefix=DOWNLOAD_PREFIX))
        self.stack.callback(shutil.rmtree, folder, ignore_errors=True)
        try:
            self.local = self.source.fetch(self.backup, folder)
        except (SourceError, OSError) as exc:
            _fail(
                f"backups:{self.key}: cannot download {self.backup.name} from {self.source.describe()}: {exc}"
            )
        return self.local

    def format(self) -> str:
        """The backup's format label from its name and first bytes (read once); `unknown` when they do not
        say."""
        if self.label is None:
            self.label = self._detect()
        return self.label

    def _detect(self) -> str:
        try:
            if isinstance(self.source, LocalSource):
                return detect_format(self.backup, self.declared).label
            with self.open() as stream:
                head = stream.read(HEAD_BYTES)
            return detect_head(head, PurePosixPath(str(self.backup.path)).name, self.declared).label
        except (FormatError, SourceError, OSError):
            return "unknown"


@dataclass(frozen=True)
class LatestBackup:
    """The newest complete backup of a `backups:` entry.

    `path` is the file here, else where the source keeps it (an object's key, a path in a snapshot);
    `source` names the backup source (local, ssh, s3, restic, borg, pgbackrest) and `place` where it is.
    A file in a restic snapshot or a Borg archive is read from a downloaded copy (`restic dump`, `borg
    extract`): its `format` and `open()` download it first.
    """

    path: PurePath
    size: int
    mtime: float
    age_seconds: float
    source: str
    place: str
    _reader: _Reader = field(repr=False, compare=False)

    @property
    def name(self) -> str:
        """The file's name (`backup_2.sql.gz`), without its folder, prefix or snapshot."""
        return PurePosixPath(str(self.path)).name

    @property
    def format(self) -> str:
        """Its format (`pg-plain-gz`, `pg-custom`, ...) from its name and first bytes, or `unknown`."""
        return self._reader.format()

    def open(self) -> IO[bytes]:
        """A streaming read of the backup from its first byte (use `with`); fails the test if it cannot."""
        return self._reader.open()

    def download(self) -> Path:
        """The backup as a local, seekable file: a temporary copy removed when the test ends (a backup in a
        folder here is its own file: nothing is copied). Fails the test if it cannot be had."""
        return self._reader.download()


def newest_backup(key: str, entry: BackupCheck, base_dir: Path, stack: ExitStack) -> LatestBackup:
    """The newest backup of `entry` through its source, kept open on `stack`; fails the test (fail closed)
    when the source cannot be read or holds no complete backup."""
    __tracebackhide__ = True
    try:
        source = stack.enter_context(open_source(entry, base_dir))
    except SourceError as exc:
        _fail(f"backups:{key}: {exc}")
    facts = find_in(source, entry)
    if facts.error or facts.newest is None:
        _fail(f"backups:{key}: {facts.error or facts.describe_empty()}")
    backup = facts.newest
    reader = _Reader(key, source, backup, entry.format, stack)
    age = facts.checked_at - backup.mtime
    place = source.place or source.describe()
    return LatestBackup(backup.path, backup.size, backup.mtime, age, source.name, place, reader)
