"""A folder restored from a restic snapshot or Borg archive against `restore.expect`: the listed files (globs
allowed; `*` also matches `/`), at least `min_count` files, the named files' sha256."""

from __future__ import annotations

import fnmatch
import hashlib
import os
from pathlib import Path

from opsverify.drills.expect import RestoreExpect
from opsverify.drills.verification import Verification

CHUNK = 1 << 20


def restored_names(folder: Path) -> list[str]:
    """Every file below `folder` (symbolic links included, not followed) as a relative POSIX path, sorted."""
    names = []
    for root, _dirs, files in os.walk(folder):
        relative = Path(root).relative_to(folder)
        names += [(relative / name).as_posix() for name in files]
    return sorted(names)


def file_sha256(path: Path) -> str | None:
    """The sha256 of a regular file (not a link), or None when there is none at `path`."""
    if path.is_symlink() or not path.is_file():
        return None
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def check_restored_files(folder: Path, expect: RestoreExpect) -> Verification:
    """What the restored `folder` holds of what `expect` asks: the count, the missing paths, the digests."""
    names = restored_names(folder)
    found = Verification(files=len(names))
    found.missing_files = [
        pattern for pattern in expect.files if not any(fnmatch.fnmatchcase(name, pattern) for name in names)
    ]
    found.file_sha256 = {path: file_sha256(folder / path) for path in expect.sha256}
    return found
