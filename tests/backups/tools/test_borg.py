"""Borg repositories as a backup source: archives' freshness, `borg check` tiers, the dump inside read as any
dump, and every failure a sentence with the fix. Real repositories, damaged on purpose."""

from __future__ import annotations

import datetime as dt
import gzip
import os
from pathlib import Path
from typing import Any

from opsverify.backups.sources.borg import BorgSource
from opsverify.kinds.backups.model import BackupCheck
from tests.backups.pgdumps import Dumps, drill_databases
from tests.backups.s3.helpers import run_check
from tests.backups.tools.repos import PASSWORD, BorgRepo
from tests.drills.helpers import GOOD_EXPECT, run_drill


def entry(repo: BorgRepo, **borg: Any) -> BackupCheck:
    settings = {"repository": str(repo.path), "passphrase": PASSWORD, "prefix": "db-", **borg}
    keys = {"path": str(repo.source / "dumps"), "pattern": "backup_*.sql.gz", "max_age": "26h"}
    return BackupCheck.model_validate({**keys, **settings.pop("keys", {}), "borg": settings})


def ago(hours: float) -> str:
    when = dt.datetime.now() - dt.timedelta(hours=hours)
    return f"--timestamp={when:%Y-%m-%dT%H:%M:%S}"


def test_newest_archive_with_the_prefix_is_checked_and_passes(
    borg_repo: BorgRepo, dumps: Dumps, private_tmp: Path
) -> None:
    body = dumps.plain_gz.read_bytes()
    borg_repo.create("db-1", {"backup_1.sql.gz": body}, ago(30))
    borg_repo.create("db-2", {"backup_2.sql.gz": body, "notes.txt": b"x"}, ago(2))
    borg_repo.create("files-1", {"backup_3.sql.gz": body}, ago(1))  # another prefix: not ours
    facts, problems = run_check(entry(borg_repo, check="verify-data"))
    assert problems == [], facts.error
    assert [f.name for f in facts.files] == [
        "backup_2.sql.gz (archive db-2)",
        "backup_1.sql.gz (archive db-1)",
    ]
    assert facts.newest is not None
    assert 1.9 * 3600 < facts.newest.age() < 2.1 * 3600
    assert facts.inspection is not None
    assert facts.inspection.format == "pg-plain-gz"
    assert facts.inspection.copies == 4  # the dump's COPY sections were read through `borg extract --stdout`


def test_max_age_is_judged_on_the_archive_time(borg_repo: BorgRepo, dumps: Dumps, private_tmp: Path) -> None:
    borg_repo.create("db-1", {"backup_1.sql.gz": dumps.plain_gz.read_bytes()}, ago(26.5))
    _facts, problems = run_check(entry(borg_repo, check="repository-only"))
    assert len(problems) == 1
    assert problems[0].startswith("newest backup backup_1.sql.gz (archive db-1): ")
    assert "expected at most 26h old (max_age, the RPO gate), got 26.5h old" in problems[0]


def test_wrong_passphrase_is_named_never_shown(borg_repo: BorgRepo, private_tmp: Path) -> None:
    facts, problems = run_check(entry(borg_repo, passphrase="not-the-passphrase-24"))
    assert facts.error == (
        f"borg repository {borg_repo.path}: wrong passphrase (borg: the passphrase in BORG_PASSPHRASE is "
        "incorrect): set the repository's passphrase in the variable given to `passphrase` (e.g. BORG_PASSPHRASE)"
    )
    assert "not-the-passphrase-24" not in " ".join(problems)


def test_missing_repository(borg_repo: BorgRepo, tmp_path: Path, private_tmp: Path) -> None:
    missing = BorgRepo(tmp_path / "nowhere", tmp_path)
    facts, _problems = run_check(entry(missing))
    assert facts.error == (
        f"borg repository {missing.path} does not exist: is `repository` right? (`borg init` makes one)"
    )


def test_not_installed_names_the_package(borg_repo: BorgRepo, private_tmp: Path) -> None:
    facts, _problems = run_check(entry(borg_repo, bin="/nonexistent/borg"))
    assert facts.error == (
        "borg is not installed (no `/nonexistent/borg` on PATH): install the Debian package borgbackup "
        "(`apt-get install borgbackup`), or set `bin` to its path"
    )


def test_a_held_lock_is_reported_and_kept(borg_repo: BorgRepo, dumps: Dumps, private_tmp: Path) -> None:
    borg_repo.create("db-1", {"backup_1.sql.gz": dumps.plain_gz.read_bytes()})
    writer = borg_repo.holding_the_lock()
    try:
        facts, _problems = run_check(entry(borg_repo, lock_wait=1))
        assert facts.error == (
            f"borg repository {borg_repo.path} is locked (borg waited 1s for its lock): a borg run is still "
            "going, or one on another host crashed and left its lock; when none is running, remove it with "
            "`borg break-lock` (opsverify never removes locks)"
        )
        assert (borg_repo.path / "lock.exclusive").exists()  # never removed
    finally:
        writer.kill()
        writer.wait(timeout=10)
        assert writer.stdin is not None
        writer.stdin.close()


def test_damaged_segment_is_caught_by_the_check_not_the_listing(
    borg_repo: BorgRepo, private_tmp: Path, tmp_path: Path
) -> None:
    borg_repo.create("db-1", {"backup_1.sql.gz": gzip.compress(os.urandom(3 << 20))})
    borg_repo.flip_a_byte_in_a_segment()
    quick = entry(borg_repo, keys={"format": "gzip", "checksum": "off"})
    with BorgSource(quick, tmp_path) as source:
        listing = source.list("backup_*.sql.gz", [])
        assert len(listing.complete) == 1  # the listing alone sees nothing wrong
        problem = source.check_repository("repository-only")
    assert problem is not None
    assert problem.startswith(f"borg check (repository-only) of {borg_repo.path} found errors: ")
    assert problem.endswith(
        "run `borg check --verify-data`, then `borg check --repair` on a copy, and take a new backup"
    )
    _facts, problems = run_check(entry(borg_repo, check="verify-data", keys={"format": "gzip"}))
    assert len(problems) == 1
    assert f"borg check (verify-data) of {borg_repo.path} found errors" in problems[0]


def test_drill_of_a_dump_inside_an_archive(
    borg_repo: BorgRepo, dumps: Dumps, tmp_path: Path, private_tmp: Path
) -> None:
    borg_repo.create("db-2", {"backup_2.sql.gz": dumps.plain_gz.read_bytes()}, ago(1))
    settings = {"repository": str(borg_repo.path), "passphrase": PASSWORD, "prefix": "db-"}
    facts, problems = run_drill(
        tmp_path,
        borg_repo.source / "dumps",
        {"rto": "1h", "expect": GOOD_EXPECT},
        pattern="backup_*.sql.gz",
        borg=settings,
    )
    assert problems == []
    assert [s.name for s in facts.steps][:2] == ["download", "find"]
    assert facts.steps[0].detail.startswith("backup_2.sql.gz (archive db-2), ")
    assert facts.verification.row_counts == {"clients": 400, "bookings": 3000, "public.invoices": 2000}
    assert facts.database not in drill_databases()  # dropped at teardown
