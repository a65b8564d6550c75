"""tar archives (`tar`, also .tar.gz / .tgz): every member read to the end, unsafe names reported."""

from __future__ import annotations

from opsverify.backups.files import BackupFile
from opsverify.backups.formats.base import BackupFormat, ReadOptions, run_on
from opsverify.backups.inspection import Detected, Inspection
from opsverify.backups.magic import is_tar
from opsverify.backups.tar_archive import read_tar
from opsverify.connect import Connection


def read(backup: BackupFile, detected: Detected, out: Inspection, options: ReadOptions) -> None:
    archive = read_tar(backup.path, gzip=detected.gzip, hash_file=options.hash_file)
    out.bytes_read, out.sha256, out.members, out.files = (
        archive.bytes_read,
        archive.sha256,
        archive.members,
        archive.files,
    )
    out.defects += archive.defects()


def verify_remote(machine: Connection, path: str, gzip: bool, timeout: float) -> Inspection:
    flag = "z" if gzip else ""
    code, out, err = run_on(machine, f'tar -t{flag}vf "$1"', timeout, path)
    inspection = Inspection("tar (gzip)" if flag else "tar", Detected("tar", gzip=bool(flag)))
    if code != 0:
        inspection.defects.append(
            f"is not a readable tar archive (`tar -t` on {machine.where}: {err[-200:]})"
        )
        return inspection
    lines = [line for line in out.splitlines() if line.strip()]
    inspection.members = len(lines)
    inspection.files = sum(1 for line in lines if line.startswith("-"))
    return inspection


FORMAT = BackupFormat(
    name="tar",
    read=read,
    declared={"tar": None},
    magic=is_tar,
    extensions=(".tar", ".tgz", ".tar.gz"),
    restore="files",
    verify_remote=verify_remote,
)
