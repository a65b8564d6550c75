"""The `format:` values of the built-in backup formats, without importing them (a leaf).

The backups entry model validates `format:` against these at load time, so a target file is read without
importing every format's reader; a name not here asks the registry (`formats.registry`), which also loads
the plugins' formats. `tests/backups/test_format_registry.py` keeps this list equal to the registry's.
"""

from __future__ import annotations

BUILT_IN_DECLARED = (
    "pg-plain",
    "pg-plain-gz",
    "pg-custom",
    "pg-directory",
    "mysql-plain",
    "mysql-plain-gz",
    "sqlite",
    "tar",
    "json",
    "gzip",
)
