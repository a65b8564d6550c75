"""pg_dump's directory format (`pg-directory`, -Fd): a folder with toc.dat, read whole by pg_restore."""

from __future__ import annotations

from pathlib import Path

from opsverify.backups.formats import pg_custom
from opsverify.backups.formats.base import BackupFormat


def is_dump_folder(path: Path) -> bool:
    return (path / "toc.dat").is_file()


FORMAT = BackupFormat(
    name="pg-directory",
    read=pg_custom.read,
    declared={"pg-directory": False},
    directory=is_dump_folder,
    restore="postgres",
)
