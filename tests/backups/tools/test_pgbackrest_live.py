"""A stanza against its live database (`pgbackrest.live_url`): `pgbackrest check` and the WAL archive lag, on a
running cluster whose archive_command is broken on purpose; the lag's limit at, just inside, just outside."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from opsverify.backups.sources.pgbackrest_live import LiveWal, archive_lag_problem, segment_number
from opsverify.kinds.backups.model import BackupCheck
from tests.backups.s3.helpers import run_check
from tests.backups.tools.live_stanza import LiveStanza
from tests.backups.tools.stanza import STANZA

pytestmark = pytest.mark.xdist_group("pgbackrest-live")
MIB16 = 16 << 20


def entry(live: LiveStanza, **settings: Any) -> BackupCheck:
    return BackupCheck.model_validate(
        {
            "pgbackrest": {
                "stanza": STANZA,
                "config": str(live.config),
                "verify": False,
                "live_url": live.url,
                **settings,
            }
        }
    )


def test_check_and_archive_lag_pass_while_archiving_works(live_stanza: LiveStanza, private_tmp: Path) -> None:
    live_stanza.sql("insert into events (note) values ('live')")
    live_stanza.switch_and_wait()
    facts, problems = run_check(entry(live_stanza, max_archive_lag="1s"))
    assert problems == [], facts.error


def test_stopped_archiving_is_a_wal_gap_with_the_lag_and_the_fix(
    live_stanza: LiveStanza, private_tmp: Path
) -> None:
    live_stanza.sql("alter system set archive_command = 'false'")
    live_stanza.sql("select pg_reload_conf()")
    try:
        live_stanza.sql("insert into events (note) values ('unarchived')")
        live_stanza.switch_and_wait()  # the archiver tried, and failed
        time.sleep(1.5)  # the last segment archived (by the previous test's check) is now past the 1s limit
        _facts, problems = run_check(entry(live_stanza, max_archive_lag="1s"))
    finally:
        live_stanza.sql("alter system reset archive_command")
        live_stanza.sql("select pg_reload_conf()")
        live_stanza.switch_and_wait()
    assert len(problems) == 2, problems
    lag, check = problems
    assert "WAL archive lag: the archive's newest segment is " in lag
    assert ": 1 segment (16.8MB) not archived, the last archived " in lag
    assert "expected at most 1s (pgbackrest.max_archive_lag); PostgreSQL's archiver last failed on " in lag
    assert lag.endswith(
        "archiving stopped, a restore now would lose that data; fix `archive_command` (see the PostgreSQL log), "
        "then check that `pgbackrest check` passes"
    )
    assert f"pgbackrest check of stanza {STANZA} failed: " in check
    assert "archive_command must push WAL to this repository" in check


def test_unreachable_live_database_is_named_without_its_password(stanza: Any, private_tmp: Path) -> None:
    config = stanza.copy(private_tmp.parent)
    checked = BackupCheck.model_validate(
        {
            "pgbackrest": {
                "stanza": STANZA,
                "config": str(config),
                "verify": False,
                "check": False,
                "live_url": "postgresql://app:canary-s3cret@127.0.0.1:1/app",
            }
        }
    )
    _facts, problems = run_check(checked)
    assert len(problems) == 1
    assert "cannot read the live database (pgbackrest.live_url): " in problems[0]
    assert "is live_url right?" in problems[0]
    assert "canary-s3cret" not in problems[0]


def test_live_url_must_be_a_postgres_url() -> None:
    with pytest.raises(
        ValueError, match="expected a postgresql://USER@HOST:PORT/DB URL of the live database"
    ):
        BackupCheck.model_validate({"pgbackrest": {"stanza": STANZA, "live_url": "db1:5432"}})


def wal(current: str, since: float | None, failed: str | None = None) -> LiveWal:
    return LiveWal(
        current, MIB16, None, since, failed, datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC) if failed else None
    )


@pytest.mark.parametrize(
    ("since", "failing"),
    [(599.0, False), (600.0, False), (601.0, True)],
    ids=["just-inside", "at-the-limit", "just-outside"],
)
def test_archive_lag_limit(since: float, failing: bool) -> None:
    problem = archive_lag_problem("000000010000000000000003", wal("000000010000000000000006", since), 600.0)
    assert (problem is not None) == failing
    if problem is not None:
        assert (
            ": 2 segments (33.6MB) not archived, the last archived 601s ago; expected at most 600s "
            in problem
        )


def test_an_idle_database_has_no_lag_however_old_its_last_segment() -> None:
    # PostgreSQL writes segment 4; 3 (the last complete one) is archived: nothing is missing
    assert archive_lag_problem("000000010000000000000003", wal("000000010000000000000004", 1e9), 60.0) is None


def test_segment_numbers_cross_log_files_and_ignore_the_timeline() -> None:
    assert segment_number("0000000100000001000000FF", MIB16) == 511
    assert segment_number("000000020000000200000000", MIB16) == 512


def test_the_archivers_last_failure_is_named() -> None:
    problem = archive_lag_problem(
        "000000010000000000000003", wal("000000010000000000000005", None, "000000010000000000000004"), 60.0
    )
    assert problem is not None
    assert "none archived since the statistics reset" in problem
    assert (
        "PostgreSQL's archiver last failed on 000000010000000000000004 at 2026-01-02T03:04:05+00:00"
        in problem
    )
