"""pg_dump directory backups synced to a bucket (`pg_dump -Fd` then `aws s3 sync DIR s3://bucket/db/DIR/`):
each folder under the prefix is one backup, read through a temporary copy after a free-space check; the
copy is always removed."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import pytest
from pydantic import ValidationError

from opsverify.backups.sources.s3_reading import ROOM_MARGIN, room_problem
from opsverify.kinds.backups.model import BackupCheck
from tests.backups.pgdumps import Dumps
from tests.backups.s3.helpers import run_check, s3_entry
from tests.backups.s3.motoserver import MotoS3
from tests.backups.s3.proxy import cutting_proxy


def sync(server: MotoS3, bucket: str, folder: Path, prefix: str, age_hours: float = 1.0) -> None:
    """What `aws s3 sync FOLDER s3://bucket/PREFIX` leaves: one object per file."""
    for path in sorted(folder.iterdir()):
        server.put(bucket, f"{prefix}{path.name}", path.read_bytes(), age_hours=age_hours)


def sidecar_text(folder: Path, name: str) -> str:
    """`cd /backups && sha256sum NAME/* > NAME.sha256`."""
    return "".join(
        f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {name}/{path.name}\n"
        for path in sorted(folder.iterdir())
    )


@pytest.fixture
def temp_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The check's temporary copies go here, so a test can see that none is left behind."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def directory_entry(server: MotoS3, bucket: str, **fields: object) -> BackupCheck:
    return s3_entry(server.endpoint, bucket, pattern="db_*", format="pg-directory", **fields)


def test_newest_folder_is_checked_through_a_copy_that_is_removed(
    moto_s3: MotoS3, dumps: Dumps, temp_folder: Path
) -> None:
    bucket = moto_s3.bucket()
    sync(moto_s3, bucket, dumps.directory, "db/db_1/", age_hours=30)
    sync(moto_s3, bucket, dumps.directory, "db/db_2/", age_hours=2)
    moto_s3.put(bucket, "db/db_2.sha256", sidecar_text(dumps.directory, "db_2").encode())
    moto_s3.put(bucket, "db/notes.txt", b"not a backup")
    facts, problems = run_check(directory_entry(moto_s3, bucket, checksum="required"))
    assert problems == []
    assert facts.newest is not None
    assert facts.newest.name == "db_2"
    assert facts.newest.is_dir
    assert facts.newest.size == sum(p.stat().st_size for p in dumps.directory.iterdir())
    assert [f.name for f in facts.files] == ["db_2", "db_1"]
    assert facts.inspection is not None
    assert facts.inspection.format == "pg-directory"
    assert facts.inspection.defects == []
    assert facts.checksum is not None
    assert facts.checksum.verified  # every file of the sidecar, against the copy
    assert len(facts.checksum.expected) == len(list(dumps.directory.iterdir()))
    assert list(temp_folder.iterdir()) == []


def test_a_folder_without_toc_dat_is_still_being_uploaded(
    moto_s3: MotoS3, dumps: Dumps, temp_folder: Path
) -> None:
    bucket = moto_s3.bucket()
    sync(moto_s3, bucket, dumps.directory, "db/db_1/", age_hours=30)
    for path in dumps.directory.iterdir():
        if path.name != "toc.dat":
            moto_s3.put(bucket, f"db/db_2/{path.name}", path.read_bytes(), age_hours=0.1)
    facts, problems = run_check(directory_entry(moto_s3, bucket, max_age="2d"))
    assert problems == []
    assert facts.newest is not None
    assert facts.newest.name == "db_1"
    assert [(s.name, s.reason) for s in facts.in_progress] == [
        ("db_2", "no toc.dat in it: still being uploaded, or not a pg_dump -Fd folder")
    ]


def test_a_corrupted_data_file_fails_the_integrity_check(
    moto_s3: MotoS3, dumps: Dumps, temp_folder: Path
) -> None:
    bucket = moto_s3.bucket()
    sync(moto_s3, bucket, dumps.directory, "db/db_1/")
    data = max((p for p in dumps.directory.iterdir() if p.name != "toc.dat"), key=lambda p: p.stat().st_size)
    body = bytearray(data.read_bytes())
    body[len(body) // 2] ^= 0xFF
    moto_s3.put(bucket, f"db/db_1/{data.name}", bytes(body))
    _facts, problems = run_check(directory_entry(moto_s3, bucket))
    assert len(problems) == 1
    assert problems[0].startswith("db_1: pg_restore cannot read the archive: ")
    assert f"s3://{bucket}/db/db_1/{data.name}: " in problems[0]  # the object, not the removed copy
    assert str(temp_folder) not in problems[0]
    assert list(temp_folder.iterdir()) == []


def test_a_folder_cut_short_while_downloading_fails_clearly_and_leaves_nothing(
    moto_s3: MotoS3, dumps: Dumps, temp_folder: Path
) -> None:
    bucket = moto_s3.bucket()
    sync(moto_s3, bucket, dumps.directory, "db/db_cut/")
    with cutting_proxy(moto_s3.endpoint) as proxy:
        entry = s3_entry(proxy, bucket, pattern="db_*", format="pg-directory")
        _facts, problems = run_check(entry)
    assert len(problems) == 1
    assert f"s3://{bucket}/db/db_cut/" in problems[0]
    assert "was cut short" in problems[0]
    assert list(temp_folder.iterdir()) == []


def test_recursive_does_not_apply_to_folders() -> None:
    with pytest.raises(ValidationError, match=r"`s3\.recursive` does not apply to format pg-directory"):
        s3_entry("http://127.0.0.1:9", "b", format="pg-directory", s3={"recursive": True})
    assert s3_entry("http://127.0.0.1:9", "b", format="pg-directory").format == "pg-directory"


@pytest.mark.parametrize(
    ("free", "fits"),
    [
        (2 * 1000 + ROOM_MARGIN, True),  # at the limit
        (2 * 1000 + ROOM_MARGIN + 1, True),  # just inside
        (2 * 1000 + ROOM_MARGIN - 1, False),  # just outside
    ],
)
def test_room_for_a_temporary_copy_at_the_limit(free: int, fits: bool) -> None:
    problem = room_problem(Path("/var/tmp"), free, 1000, copies=2, what="the folder db_2/")
    if fits:
        assert problem is None
        return
    assert problem is not None
    assert problem.startswith("not enough room in /var/tmp for a temporary copy of the folder db_2/: ")
    assert (
        f"({2 * 1000 + ROOM_MARGIN} bytes) needed; point TMPDIR (for a drill: restore.tmp_dir) at a larger disk"
        in problem
    )
