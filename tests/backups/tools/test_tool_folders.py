"""A folder of a restic snapshot or Borg archive restored by the tool (`restic restore`, `borg extract`) into
a temporary folder; a restore that fills the disk (a real 2 MB tmpfs) is named with its folder and the fix,
and leaves nothing there."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from opsverify.backups.sources import SourceError
from opsverify.backups.sources.borg import BorgSource
from opsverify.backups.sources.restic import ResticSource
from opsverify.backups.sources.tool_run import ToolSource
from opsverify.kinds.backups.model import BackupCheck
from tests.backups.tools.repos import PASSWORD, BorgRepo, ResticRepo

FILES = {"a.txt": b"alpha\n", "b.txt": b"beta\n"}


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs mounted in the test's folder (the test runs as root), unmounted afterwards."""
    folder = tmp_path / "small-disk"
    folder.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder)], check=True, timeout=30)
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True, timeout=30)


def source_of(kind: str, restic_repo: ResticRepo, borg_repo: BorgRepo) -> ToolSource:
    if kind == "restic":
        block = {"restic": {"repository": str(restic_repo.path), "password": PASSWORD}}
        folder = restic_repo.source / "dumps"
    else:
        block = {"borg": {"repository": str(borg_repo.path), "passphrase": PASSWORD}}
        folder = borg_repo.source / "dumps"
    entry = BackupCheck.model_validate({"path": str(folder), "pattern": "*.txt", **block})
    return ResticSource(entry, Path()) if kind == "restic" else BorgSource(entry, Path())


def back_up(kind: str, restic_repo: ResticRepo, borg_repo: BorgRepo, files: dict[str, bytes]) -> None:
    if kind == "restic":
        restic_repo.backup(files)
    else:
        borg_repo.create("files-1", files)


@pytest.mark.parametrize("kind", ["restic", "borg"])
def test_the_folder_of_the_newest_snapshot_is_restored(
    kind: str, restic_repo: ResticRepo, borg_repo: BorgRepo, tmp_path: Path
) -> None:
    back_up(kind, restic_repo, borg_repo, FILES)
    source = source_of(kind, restic_repo, borg_repo)
    newest = source.list("*.txt", []).complete[0]
    into = tmp_path / "into"
    into.mkdir()
    folder = source.restore_folder(newest, into)
    assert sorted(p.name for p in folder.iterdir()) == ["a.txt", "b.txt"]
    assert (folder / "a.txt").read_bytes() == b"alpha\n"
    assert folder.is_relative_to(into)


@pytest.mark.parametrize("kind", ["restic", "borg"])
def test_a_restore_that_fills_the_disk_names_the_folder_and_the_fix(
    kind: str, restic_repo: ResticRepo, borg_repo: BorgRepo, small_disk: Path
) -> None:
    big = {f"part-{n}.txt": os.urandom(900_000) for n in range(3)}  # 2.7 MB, incompressible: not on 2 MB
    back_up(kind, restic_repo, borg_repo, big)
    source = source_of(kind, restic_repo, borg_repo)
    newest = source.list("*.txt", []).complete[0]
    with pytest.raises(SourceError) as raised:
        source.restore_folder(newest, small_disk)
    message = str(raised.value)
    assert f"into {small_disk} ran out of disk space ({kind}: no space left on device)" in message
    assert "free space on that disk, or set the entry's `restore.tmp_dir`" in message
    assert PASSWORD not in message
    assert list(small_disk.iterdir()) == []  # what was restored so far is gone


@pytest.mark.parametrize("kind", ["restic", "borg"])
def test_a_dump_read_that_fills_the_disk_names_the_folder(
    kind: str, restic_repo: ResticRepo, borg_repo: BorgRepo, small_disk: Path
) -> None:
    back_up(kind, restic_repo, borg_repo, {"big.txt": os.urandom(2_500_000)})
    source = source_of(kind, restic_repo, borg_repo)
    newest = source.list("*.txt", []).complete[0]
    with pytest.raises(SourceError) as raised:
        source.fetch(newest, small_disk)
    assert f"into {small_disk} ran out of disk space" in str(raised.value)
    assert list(small_disk.iterdir()) == []
