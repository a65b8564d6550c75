"""What a backup format is to opsverify: how to recognise it, read it whole, verify it remotely, restore it.

A format is one module holding one `BackupFormat` value; the registry (`formats.registry`) lists the
built-in ones and those of installed packages (entry-point group `opsverify.backup_formats`, each entry
point naming a `BackupFormat`). Nothing else in opsverify names a format: detection, the integrity
check, the remote verification over `via:` and the restore drill all ask the registry.

Writing one (e.g. `zstd`-compressed dumps or a `redis-rdb` snapshot):

    FORMAT = BackupFormat(
        name="redis-rdb",                          # what messages and `format:` call it
        read=read_rdb,                             # the full read: fills an Inspection, never raises
        declared={"redis-rdb": None},              # `format:` values -> gzip wanted (True/False/None: either)
        magic=lambda head: head.startswith(b"REDIS"),  # first bytes that settle it (optional)
        extensions=(".rdb",),                      # names that suggest it when the bytes do not
    )

The reader gets the file (`BackupFile.path` is a local, seekable file), what detection found, the
`Inspection` to fill (bytes_read, sha256 when `options.hash_file`, defects as plain sentences naming the
fix) and the entry's read options. A defect is a fact about the backup, not an error: return normally.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from opsverify.backups.files import BackupFile
from opsverify.backups.inspection import Detected, Inspection
from opsverify.connect import ConnectError, Connection

DrillRestore = Literal["postgres", "mysql", "sqlite", "files"]
"""What a drill restores a format into: a PostgreSQL or MySQL sandbox database, an SQLite copy, a folder."""


@dataclass(frozen=True)
class ReadOptions:
    """The entry's settings a full read may need (all optional for a format that needs none)."""

    items_path: str | None = None  # json: the dotted path of the counted list
    client_bin: str | None = None  # a folder with pg_restore / psql
    hash_file: bool = True  # compute sha256 on the way (off when `checksum: off`)


FormatReader = Callable[[BackupFile, Detected, Inspection, ReadOptions], None]
"""Read the whole backup once and fill the inspection (sizes, sha256, counts, defects)."""

RemoteVerifier = Callable[[Connection, str, bool, float], Inspection]
"""Verify a backup on the machine that holds it (`via:`): (machine, path, gzip, timeout) -> inspection.

Runs commands there (`gzip -t`, `tar -t`, `sqlite3 … integrity_check`); only their short output crosses
the connection. Raise `ConnectError` when the command does not finish in `timeout` seconds."""


@dataclass(frozen=True)
class BackupFormat:
    """One backup format: recognise it, read it whole, verify it remotely, name what a drill restores."""

    name: str
    read: FormatReader
    declared: Mapping[str, bool | None] = field(default_factory=dict)
    magic: Callable[[bytes], bool] | None = None
    """True when the first bytes (64 KiB, inflated when gzip) can only be this format: it wins over the name."""
    text: Callable[[bytes], bool] | None = None
    """True when the first bytes look like it (weaker: the file name's extension decides first)."""
    extensions: tuple[str, ...] = ()
    """Lower-case file-name endings that suggest it (`.sql`, `.tar.gz`), used when the bytes do not say."""
    directory: Callable[[Path], bool] | None = None
    """For a format that is a folder (pg_dump -Fd): True when the folder is one."""
    restore: DrillRestore | None = None
    """What `restore:` drills restore it into; None: a drill of it says it cannot and the entry is refused."""
    verify_remote: RemoteVerifier | None = None
    """The check run on another machine (`via:`); None: only the format is named, nothing is verified there."""
    gz_suffix: bool = False
    """Its gzip-compressed variant is named `<name>-gz` (`pg-plain-gz`) rather than `<name> (gzip)`."""

    @property
    def conclusive(self) -> bool:
        """Detection by content is certain (magic bytes or a folder layout), so a `format:` that disagrees is
        an error rather than a hint."""
        return self.magic is not None or self.directory is not None


def run_on(machine: Connection, script: str, timeout: float, *args: str) -> tuple[int | None, str, str]:
    """Run `sh -c script` on `machine` (args as $1…): exit code, stdout and stderr, stripped."""
    result = machine.run(["sh", "-c", script, "sh", *args], timeout)
    if result.timed_out:
        raise ConnectError(f"verifying on {machine.where} did not finish within {timeout:g}s")
    return result.exit_code, result.text().strip(), result.text("stderr").strip()
