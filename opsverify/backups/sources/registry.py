"""The backup sources opsverify knows: built-ins, then entry-point group `opsverify.backup_sources`.

An entry is for the first source (in this order) whose `claims(entry)` is true; `local` is the default
when none does. Two sources claiming one entry is a configuration error, named in the check's problem.
"""

from __future__ import annotations

import functools
from pathlib import Path

from opsverify.backups.sources.base import BackupEntry, BackupSource, SourceError
from opsverify.backups.sources.borg import BorgSource
from opsverify.backups.sources.local import LocalSource
from opsverify.backups.sources.pgbackrest import PgBackRestSource
from opsverify.backups.sources.restic import ResticSource
from opsverify.backups.sources.s3 import S3Source
from opsverify.backups.sources.ssh import SshSource
from opsverify.plugins import PluginError, describe, load_group, wrong_type

GROUP = "opsverify.backup_sources"
DEFAULT: type[BackupSource] = LocalSource
BUILT_IN: tuple[type[BackupSource], ...] = (
    LocalSource,
    SshSource,
    S3Source,
    ResticSource,
    BorgSource,
    PgBackRestSource,
)


@functools.cache
def backup_sources() -> dict[str, type[BackupSource]]:
    """name -> source class, built-ins first. Raises PluginError naming a plugin that fails to load."""
    sources = {source.name: source for source in BUILT_IN}
    for entry_point, value in load_group(GROUP):
        if not (isinstance(value, type) and issubclass(value, BackupSource)):
            raise wrong_type(GROUP, entry_point, "BackupSource subclass", value)
        if value.name in sources:
            raise PluginError(
                f"plugin {describe(entry_point)} in entry-point group {GROUP}: source {value.name!r} is "
                "already defined; give the plugin's source another name"
            )
        sources[value.name] = value
    return sources


def source_for(entry: BackupEntry) -> type[BackupSource]:
    """The source an entry's backups are read from. Raises SourceError when two sources claim it."""
    claiming = [
        source for source in backup_sources().values() if source is not DEFAULT and source.claims(entry)
    ]
    if len(claiming) > 1:
        names = " and ".join(source.name for source in claiming)
        raise SourceError(
            f"path {entry.path!r} is claimed by the {names} backup sources; an entry reads one place: "
            "drop the settings of the others"
        )
    return claiming[0] if claiming else DEFAULT


def open_source(entry: BackupEntry, base_dir: Path) -> BackupSource:
    """The entry's source, not yet connected: use it as `with open_source(entry, base_dir) as source:`."""
    return source_for(entry)(entry, base_dir)
