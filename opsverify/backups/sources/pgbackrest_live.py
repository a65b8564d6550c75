"""A pgBackRest stanza against its live database (`pgbackrest.live_url`): the archive lag and `pgbackrest check`.

Archive lag: the segments PostgreSQL has completed (every one before the one it writes now) that the
repository's WAL archive does not hold yet, and how long ago PostgreSQL last archived one (pg_stat_archiver).
An idle database has no lag, however old its last segment; a live one whose archiving stopped (a WAL gap) has
a growing one: past `max_archive_lag` it is a failure, since a restore would lose everything after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

from opsverify.redaction import redact
from opsverify.units import format_size, human_duration, plural

CONNECT_TIMEOUT = 10
_LIVE_SQL = """
select pg_is_in_recovery(),
       case when pg_is_in_recovery() then null else pg_walfile_name(pg_current_wal_lsn()) end,
       case when pg_is_in_recovery() then null else (pg_current_wal_lsn() - '0/0')::bigint end,
       (select setting::bigint from pg_settings where name = 'wal_segment_size'),
       last_archived_wal, extract(epoch from now() - last_archived_time),
       last_failed_wal, last_failed_time
from pg_stat_archiver
"""


@dataclass(frozen=True)
class LiveWal:
    """What the live database says of its WAL and its archiver."""

    current: str  # the segment PostgreSQL writes now (not complete: not archivable yet)
    segment_size: int
    last_archived: str | None
    since_archived: float | None  # seconds since PostgreSQL last archived a segment
    last_failed: str | None
    last_failed_at: datetime | None


def read_live_wal(url: str, timeout: float) -> LiveWal | str:
    """The live database's WAL position and archiver state, or why it could not be read (a sentence)."""
    try:
        with psycopg.connect(
            url,
            connect_timeout=CONNECT_TIMEOUT,
            autocommit=True,
            options=f"-c statement_timeout={int(timeout * 1000)}",
            application_name="opsverify-archive-lag",
        ) as connection:
            row = connection.execute(_LIVE_SQL).fetchone()
    except psycopg.Error as exc:
        reason = redact(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
        return f"cannot read the live database (pgbackrest.live_url): {reason}: is live_url right?"
    assert row is not None
    if row[0]:
        return (
            "pgbackrest.live_url is a standby (in recovery): the archive lag is measured on the primary; "
            "point live_url at it"
        )
    size = int(row[3])
    number = int(row[2]) // size  # pg_walfile_name names the previous segment at a segment's very start
    per_log = 0x1_0000_0000 // size
    current = f"{str(row[1])[:8]}{number // per_log:08X}{number % per_log:08X}"
    return LiveWal(
        current,
        size,
        row[4],
        float(row[5]) if row[5] is not None else None,
        row[6],
        row[7],
    )


def segment_number(name: str, segment_size: int) -> int:
    """The position of WAL segment `name` (timeline ignored): log * segments-per-log + segment."""
    per_log = 0x1_0000_0000 // segment_size
    return int(name[8:16], 16) * per_log + int(name[16:24], 16)


def archive_lag_problem(archived: str, live: LiveWal, limit: float) -> str | None:
    """The WAL gap of the live database against the archive's newest segment `archived`, past `limit`."""
    missing = (
        segment_number(live.current, live.segment_size) - 1 - segment_number(archived, live.segment_size)
    )
    if missing <= 0:
        return None  # every completed segment is in the archive: an idle database has no lag
    lag = live.since_archived
    if lag is not None and lag <= limit:
        return None
    ago, limit_text = human_duration(lag or 0), human_duration(limit)
    if ago == limit_text:  # rounded alike: show the seconds that tell them apart
        ago, limit_text = f"{lag:.0f}s", f"{limit:.0f}s"
    since = f"the last archived {ago} ago" if lag is not None else "none archived since the statistics reset"
    failed = ""
    if live.last_failed:
        when = live.last_failed_at.isoformat(timespec="seconds") if live.last_failed_at else "?"
        failed = f"; PostgreSQL's archiver last failed on {live.last_failed} at {when}"
    return (
        f"WAL archive lag: the archive's newest segment is {archived} while PostgreSQL writes {live.current}: "
        f"{plural(missing, 'segment')} ({format_size(missing * live.segment_size)}) not archived, {since}; "
        f"expected at most {limit_text} (pgbackrest.max_archive_lag){failed}: archiving stopped, "
        "a restore now would lose that data; fix `archive_command` (see the PostgreSQL log), then check that "
        "`pgbackrest check` passes"
    )
