"""The drill of a folder in a restic snapshot or Borg archive (`restore.expect` with `files`, `min_count` or
`sha256`): find the newest snapshot, the tool's own repository check, then `restic restore` / `borg extract` of
the folder `path` into a temporary folder (under `restore.tmp_dir`), removed by the drill's teardown."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from opsverify.backups.inspection import Inspection
from opsverify.backups.sources import SourceError, open_source
from opsverify.backups.sources.tool_run import ToolSource
from opsverify.drills.restore import RestoreResult, count_files
from opsverify.kinds.backups.facts import BackupFacts
from opsverify.kinds.restore.facts import DrillFacts
from opsverify.kinds.restore.restored import Restored
from opsverify.kinds.restore.s3_source import drill_workdir, list_into
from opsverify.kinds.restore.teardown import remove_folder

if TYPE_CHECKING:
    from opsverify.kinds.backups.model import BackupCheck

Cleanup = Callable[[str, Callable[[], str | None]], None]


def restores_a_folder(entry: BackupCheck) -> bool:
    """Whether the drill of `entry` restores the folder `path` of a tool's snapshot (its files are expected)."""
    spec = entry.restore
    return (
        (entry.restic is not None or entry.borg is not None)
        and spec is not None
        and spec.expect.checks_files()
    )


def restore_tool_folder(
    entry: BackupCheck, facts: DrillFacts, base_dir: Path, cleanup: Cleanup
) -> Restored | None:
    """Steps find, integrity, restore; the restored folder (None when a step failed: `facts` says why)."""
    spec = entry.restore
    assert spec is not None
    source = open_source(entry, base_dir)
    assert isinstance(source, ToolSource), "restic and borg entries are read by their tool"
    backup = facts.backup = BackupFacts(Path(entry.path), entry.pattern, location=source.place)
    with source:
        with facts.step("find") as step:
            newest = list_into(source, entry, backup, step)
            if newest is None:
                return None
            step.detail = f"{source.snapshots[:-1]} {source.snapshot_name(newest)} of {source.place}"
        with facts.step("integrity") as step:
            problem = source.check_repository()
            if problem is not None:
                backup.inspection = Inspection("unknown", defects=[problem])
                step.ok = False
                return None
        workdir = drill_workdir(entry, base_dir, "restore_")
        cleanup("remove the restored folder", lambda: _removed(workdir))
        facts.sandbox, facts.sandbox_detail = "files", f"temporary folder {workdir}"
        with facts.step("restore") as step:
            result = facts.restore = RestoreResult(f"{source.tool.program} restore", returncode=0)
            try:
                folder = source.restore_folder(newest, workdir, timeout=spec.restore_timeout())
            except SourceError as exc:
                result.returncode, result.error = 1, str(exc)
                facts.fail(str(exc))
                return None
            files = count_files(folder)
            step.detail = f"{entry.path}: {files} files"
    return Restored("files", path=folder, files=files)


def _removed(folder: Path) -> str | None:
    remove_folder(folder)
    return f"could not remove {folder}" if folder.exists() else None
