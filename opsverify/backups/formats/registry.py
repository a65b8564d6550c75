"""The backup formats opsverify knows: the built-in modules, then entry-point group `opsverify.backup_formats`.

Built-ins come first and in this order: it is the order detection tries them and the order messages list
them. A plugin format comes after them; it cannot replace a built-in (same name is an error).
"""

from __future__ import annotations

import functools

from opsverify.backups.formats import (
    gzip_stream,
    json_doc,
    mysql_plain,
    pg_custom,
    pg_directory,
    pg_plain,
    sqlite,
    tar,
)
from opsverify.backups.formats.base import BackupFormat
from opsverify.backups.inspection import GZ_SUFFIXED
from opsverify.plugins import PluginError, describe, load_group, wrong_type

GROUP = "opsverify.backup_formats"
BUILT_IN: tuple[BackupFormat, ...] = (
    pg_plain.FORMAT,
    pg_custom.FORMAT,
    pg_directory.FORMAT,
    mysql_plain.FORMAT,
    sqlite.FORMAT,
    tar.FORMAT,
    json_doc.FORMAT,
    gzip_stream.FORMAT,
)


@functools.cache
def backup_formats() -> dict[str, BackupFormat]:
    """name -> format, built-ins first. Raises PluginError naming a plugin that fails to load."""
    formats = {fmt.name: fmt for fmt in BUILT_IN}
    for entry_point, value in load_group(GROUP):
        if not isinstance(value, BackupFormat):
            raise wrong_type(GROUP, entry_point, "BackupFormat", value)
        if value.name in formats:
            raise PluginError(
                f"plugin {describe(entry_point)} in entry-point group {GROUP}: format {value.name!r} is "
                "already defined; give the plugin's format another name"
            )
        formats[value.name] = value
        if value.gz_suffix:
            GZ_SUFFIXED.add(value.name)
    return formats


def get_format(name: str) -> BackupFormat | None:
    """The format called `name` (a detected format, not a `format:` alias like pg-plain-gz)."""
    return backup_formats().get(name)


def declared_formats() -> dict[str, tuple[str, bool | None]]:
    """Every value `format:` accepts besides auto -> (the format, gzip wanted: True, False or None for either)."""
    return {
        declared: (fmt.name, gzip)
        for fmt in backup_formats().values()
        for declared, gzip in fmt.declared.items()
    }
