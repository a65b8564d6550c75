"""restic repositories as a backup source: snapshots' freshness, `restic check` (quick and deep), the dump
inside read as any dump, and every failure a sentence with the fix. Real repositories, damaged on purpose."""

from __future__ import annotations

import datetime as dt
import gzip
import os
from pathlib import Path
from typing import Any

import pytest

from opsverify.backups.sources.restic import ResticSource, subset_argument
from opsverify.kinds.backups.model import BackupCheck
from tests.backups.pgdumps import Dumps, drill_databases
from tests.backups.s3.helpers import run_check
from tests.backups.s3.motoserver import KEY_ID, REGION, SECRET, MotoS3
from tests.backups.tools.repos import PASSWORD, ResticRepo
from tests.drills.helpers import GOOD_EXPECT, run_drill


def entry(repo: ResticRepo, **restic: Any) -> BackupCheck:
    settings = {
        "repository": str(repo.path),
        "password": PASSWORD,
        "host": "db1",
        "tags": ["nightly"],
        **restic,
    }
    keys = {"path": str(repo.source / "dumps"), "pattern": "backup_*.sql.gz", "max_age": "26h"}
    return BackupCheck.model_validate({**keys, **settings.pop("keys", {}), "restic": settings})


def ago(hours: float) -> str:
    when = dt.datetime.now() - dt.timedelta(hours=hours)
    return f"--time={when:%Y-%m-%d %H:%M:%S}"


def test_newest_matching_snapshot_is_checked_and_passes(
    restic_repo: ResticRepo, dumps: Dumps, private_tmp: Path
) -> None:
    body = dumps.plain_gz.read_bytes()
    restic_repo.backup({"backup_1.sql.gz": body}, ago(30))
    restic_repo.backup({"backup_2.sql.gz": body, "notes.txt": b"x"}, ago(2))
    restic_repo.run("backup", "-q", "--host=other", str(restic_repo.source), ago(1))  # another host: not ours
    facts, problems = run_check(entry(restic_repo, read_data_subset="all"))
    assert problems == [], facts.error
    assert len(facts.files) == 2
    newest = facts.newest
    assert newest is not None
    assert newest.name.startswith("backup_2.sql.gz (snapshot ")
    assert 1.9 * 3600 < newest.age() < 2.1 * 3600
    assert facts.inspection is not None
    assert facts.inspection.format == "pg-plain-gz"
    assert facts.inspection.copies == 4  # the dump's COPY sections were read through `restic dump`


def test_max_age_is_judged_on_the_snapshot_time(
    restic_repo: ResticRepo, dumps: Dumps, private_tmp: Path
) -> None:
    restic_repo.backup({"backup_1.sql.gz": dumps.plain_gz.read_bytes()}, ago(26.5))
    _facts, problems = run_check(entry(restic_repo))
    assert len(problems) == 1
    assert problems[0].startswith("newest backup backup_1.sql.gz (snapshot ")
    assert "expected at most 26h old (max_age, the RPO gate), got 26.5h old" in problems[0]


def test_no_matching_snapshot_fails_closed(restic_repo: ResticRepo, dumps: Dumps, private_tmp: Path) -> None:
    restic_repo.backup({"backup_1.sql.gz": dumps.plain_gz.read_bytes()})
    facts, problems = run_check(entry(restic_repo, host="db2"))
    assert facts.newest is None
    assert len(problems) == 1
    assert "no backup" in problems[0]


def test_wrong_password_is_named_never_shown(restic_repo: ResticRepo, private_tmp: Path) -> None:
    facts, problems = run_check(entry(restic_repo, password="not-the-password-24"))
    assert facts.error == (
        f"restic repository {restic_repo.path}: wrong password (restic: no key found for it): set the "
        "repository's password in the variable given to `password` (e.g. RESTIC_PASSWORD)"
    )
    assert "not-the-password-24" not in " ".join(problems)


def test_missing_repository(tmp_path: Path, private_tmp: Path) -> None:
    repo = ResticRepo(tmp_path / "nowhere", tmp_path)
    facts, _problems = run_check(entry(repo))
    assert facts.error == (
        f"restic repository {repo.path} does not exist (no config file there): is `repository` right? "
        "(`restic init` makes one)"
    )


def test_not_installed_names_the_package(restic_repo: ResticRepo, private_tmp: Path) -> None:
    facts, _problems = run_check(entry(restic_repo, bin="/nonexistent/restic"))
    assert facts.error == (
        "restic is not installed (no `/nonexistent/restic` on PATH): install the Debian package restic "
        "(`apt-get install restic`), or set `bin` to its path"
    )


def test_lock_of_a_crashed_run_is_reported_and_kept(
    restic_repo: ResticRepo, dumps: Dumps, private_tmp: Path
) -> None:
    restic_repo.backup({"backup_1.sql.gz": dumps.plain_gz.read_bytes()})
    restic_repo.crash_leaving_a_lock()
    locks = restic_repo.locks()
    facts, problems = run_check(entry(restic_repo))
    assert [s.name for s in facts.in_progress] == [f"lock {locks[0][:8]}"]
    assert len(problems) == 1
    assert f"restic repository {restic_repo.path} is locked by PID " in problems[0]
    assert "remove it with `restic unlock` (opsverify never removes locks)" in problems[0]
    assert restic_repo.locks() == locks  # never removed


def test_flipped_byte_is_caught_by_the_deep_check_only(
    restic_repo: ResticRepo, private_tmp: Path, tmp_path: Path
) -> None:
    restic_repo.backup({"backup_1.sql.gz": gzip.compress(os.urandom(3 << 20))})  # its data: the biggest pack
    restic_repo.flip_a_byte_in_a_data_pack()
    quick = entry(restic_repo, keys={"format": "gzip", "checksum": "off"})
    facts, _ = run_check(quick)
    assert facts.newest is not None, facts.error  # the listing alone sees nothing wrong
    with ResticSource(quick, tmp_path) as source:
        assert source.check_repository() is None  # the quick check reads no data
    _facts, problems = run_check(entry(restic_repo, read_data_subset="all", keys={"format": "gzip"}))
    assert len(problems) == 1
    assert f"restic check of {restic_repo.path} found errors" in problems[0]
    assert "check --read-data" in problems[0]


@pytest.mark.parametrize(
    ("subset", "day", "expected"),
    [
        ("cycle/7", 1, ["--read-data-subset=2/7"]),
        ("cycle/7", 6, ["--read-data-subset=7/7"]),
        ("cycle/7", 7, ["--read-data-subset=1/7"]),
        ("3/7", 200, ["--read-data-subset=3/7"]),
        ("10%", 1, ["--read-data-subset=10%"]),
        ("all", 1, ["--read-data"]),
        (None, 1, []),
    ],
)
def test_read_data_subset_rotates_over_its_cycle(subset: str | None, day: int, expected: list[str]) -> None:
    assert subset_argument(subset, day) == expected


@pytest.mark.parametrize("value", ["0/7", "8/7", "cycle/0", "half", "1/"])
def test_bad_read_data_subset_is_a_config_error(value: str) -> None:
    with pytest.raises(ValueError, match="expected n/t with 1 <= n <= t"):
        BackupCheck.model_validate(
            {"path": "/d", "restic": {"repository": "/r", "password": "p", "read_data_subset": value}}
        )


def test_drill_of_a_dump_inside_a_snapshot(
    restic_repo: ResticRepo, dumps: Dumps, tmp_path: Path, private_tmp: Path
) -> None:
    restic_repo.backup({"backup_2.sql.gz": dumps.plain_gz.read_bytes()}, ago(1))
    settings = {"repository": str(restic_repo.path), "password": PASSWORD, "host": "db1"}
    facts, problems = run_drill(
        tmp_path,
        restic_repo.source / "dumps",
        {"rto": "1h", "expect": GOOD_EXPECT},
        pattern="backup_*.sql.gz",
        restic=settings,
    )
    assert problems == []
    assert [s.name for s in facts.steps][:2] == ["download", "find"]
    assert facts.steps[0].detail.startswith("backup_2.sql.gz (snapshot ")
    assert f"from restic repository {restic_repo.path}" in facts.steps[0].detail
    assert facts.verification.row_counts == {"clients": 400, "bookings": 3000, "public.invoices": 2000}
    assert facts.database not in drill_databases()  # dropped at teardown


def test_repository_in_a_bucket_uses_the_entrys_s3_credentials(
    moto_s3: MotoS3, dumps: Dumps, tmp_path: Path, private_tmp: Path
) -> None:
    bucket = moto_s3.bucket()
    url = f"s3:{moto_s3.endpoint}/{bucket}/restic"
    env = {"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_DEFAULT_REGION": REGION}
    repo = ResticRepo(Path(url), tmp_path / "srv")
    repo.source.mkdir()
    repo.extra_env = env
    repo.run("init", "-q")
    repo.backup({"backup_1.sql.gz": dumps.plain_gz.read_bytes()})
    s3 = {
        "endpoint_url": moto_s3.endpoint,
        "region": REGION,
        "access_key_id": KEY_ID,
        "secret_access_key": SECRET,
    }
    checked = BackupCheck.model_validate(
        {
            "path": str(repo.source / "dumps"),
            "pattern": "backup_*.sql.gz",
            "s3": s3,
            "restic": {"repository": url, "password": PASSWORD, "read_data_subset": "cycle/7"},
        }
    )
    facts, problems = run_check(checked)
    assert problems == [], facts.error
    assert facts.place == f"restic repository {url}"
    assert facts.inspection is not None
    assert facts.inspection.format == "pg-plain-gz"
    with ResticSource(checked, tmp_path) as source:  # moto takes any key: the variables restic is given
        assert dict(source.repo.env) == env
