"""The backup-format registry: every built-in module registered, a plugin format found through its entry
point and used by detection, the integrity read and `format:`, a broken plugin named in one line."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import pytest

from opsverify.backups.files import stat_backup
from opsverify.backups.format_names import BUILT_IN_DECLARED
from opsverify.backups.formats import backup_formats, declared_formats, detect_format, get_format
from opsverify.backups.formats.registry import BUILT_IN
from opsverify.backups.integrity import inspect_backup
from opsverify.config.target import load_target
from opsverify.config.yamlsource import TargetError
from opsverify.plugins import PluginError

FORMATS = Path(__file__).resolve().parents[2] / "opsverify" / "backups" / "formats"
NOT_FORMATS = {"__init__", "base", "detect", "registry"}

RDB_PLUGIN = """
from opsverify.backups.formats import BackupFormat

def read(backup, detected, out, options):
    data = backup.path.read_bytes()
    out.bytes_read = len(data)
    if not data.rstrip().endswith(b"EOF"):
        out.defects.append("has no EOF marker: the snapshot was cut short; check the writer's log")

FORMAT = BackupFormat(
    name="redis-rdb",
    read=read,
    declared={"redis-rdb": None},
    magic=lambda head: head.startswith(b"REDIS"),
    extensions=(".rdb",),
)
"""


def test_every_format_module_is_registered() -> None:
    modules = {path.stem for path in FORMATS.glob("*.py")} - NOT_FORMATS
    registered = {fmt.read.__module__.rsplit(".", 1)[-1] for fmt in BUILT_IN}
    registered |= {"pg_directory"}  # reads with pg_custom's reader: one pg_restore for both layouts
    assert modules == registered


def test_registry_order_is_the_order_messages_list_formats() -> None:
    assert list(declared_formats()) == [
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
    ]


def test_the_light_list_of_built_in_names_is_the_registrys() -> None:
    assert tuple(name for fmt in BUILT_IN for name in fmt.declared) == BUILT_IN_DECLARED


def test_every_restorable_format_names_its_drill() -> None:
    restores = {name: fmt.restore for name, fmt in backup_formats().items()}
    assert restores == {
        "pg-plain": "postgres",
        "pg-custom": "postgres",
        "pg-directory": "postgres",
        "mysql-plain": "mysql",
        "sqlite": "sqlite",
        "tar": "files",
        "json": None,
        "gzip": None,
    }


def test_plugin_format_is_detected_read_and_accepted_by_format(
    plugin_path: Callable[..., Path], tmp_path: Path
) -> None:
    plugin_path(
        "opsverify-test-plugin-rdb",
        "opsverify_test_plugin_rdb",
        RDB_PLUGIN,
        {"opsverify.backup_formats": {"redis-rdb": "opsverify_test_plugin_rdb:FORMAT"}},
        backup_formats,
    )
    good = tmp_path / "dump.rdb"
    good.write_bytes(b"REDIS0011 data EOF")
    cut = tmp_path / "cut.bin"
    cut.write_bytes(b"REDIS0011 data")
    assert get_format("redis-rdb") is not None
    assert detect_format(stat_backup(good)).format == "redis-rdb"
    assert inspect_backup(stat_backup(good)).defects == []
    assert inspect_backup(stat_backup(cut)).defects == [
        "has no EOF marker: the snapshot was cut short; check the writer's log"
    ]
    packed = tmp_path / "dump.rdb.gz"
    packed.write_bytes(gzip.compress(b"REDIS0011 data EOF"))
    assert detect_format(stat_backup(packed)).label == "redis-rdb (gzip)"
    target = tmp_path / "t.yaml"
    target.write_text(f"target: t\nbackups:\n  cache: {{path: {tmp_path}, format: redis-rdb}}\n")
    assert load_target(str(target)).section("backups")["cache"].format == "redis-rdb"


def test_unknown_format_lists_the_plugin_formats_too(
    plugin_path: Callable[..., Path], tmp_path: Path
) -> None:
    plugin_path(
        "opsverify-test-plugin-rdb2",
        "opsverify_test_plugin_rdb2",
        RDB_PLUGIN,
        {"opsverify.backup_formats": {"redis-rdb": "opsverify_test_plugin_rdb2:FORMAT"}},
        backup_formats,
    )
    target = tmp_path / "t.yaml"
    target.write_text(f"target: t\nbackups:\n  cache: {{path: {tmp_path}, format: rdb}}\n")
    with pytest.raises(TargetError) as raised:
        load_target(str(target))
    assert "backups.cache.format: expected one of 'auto', 'pg-plain'" in str(raised.value)
    assert "'gzip' or 'redis-rdb', got 'rdb'" in str(raised.value)


def test_broken_format_plugin_is_named(plugin_path: Callable[..., Path]) -> None:
    plugin_path(
        "opsverify-test-plugin-broken",
        "opsverify_test_plugin_broken",
        "import no_such_module_anywhere\n",
        {"opsverify.backup_formats": {"broken": "opsverify_test_plugin_broken:FORMAT"}},
        backup_formats,
    )
    with pytest.raises(PluginError) as raised:
        backup_formats()
    assert str(raised.value) == (
        "plugin 'broken' (opsverify_test_plugin_broken:FORMAT, package opsverify-test-plugin-broken 0.1) in "
        "entry-point group opsverify.backup_formats failed to load: ModuleNotFoundError: No module named "
        "'no_such_module_anywhere'; fix or upgrade that package, or uninstall it"
    )


def test_plugin_naming_something_else_is_named(plugin_path: Callable[..., Path]) -> None:
    plugin_path(
        "opsverify-test-plugin-wrong",
        "opsverify_test_plugin_wrong",
        "FORMAT = 'redis-rdb'\n",
        {"opsverify.backup_formats": {"wrong": "opsverify_test_plugin_wrong:FORMAT"}},
        backup_formats,
    )
    with pytest.raises(PluginError, match=r"'wrong' .*: expected BackupFormat, got str"):
        backup_formats()


def test_plugin_cannot_replace_a_built_in(plugin_path: Callable[..., Path]) -> None:
    plugin_path(
        "opsverify-test-plugin-dup",
        "opsverify_test_plugin_dup",
        RDB_PLUGIN.replace('name="redis-rdb"', 'name="tar"'),
        {"opsverify.backup_formats": {"dup": "opsverify_test_plugin_dup:FORMAT"}},
        backup_formats,
    )
    with pytest.raises(PluginError, match="format 'tar' is already defined"):
        backup_formats()
