"""The demo deployment's files, laid out as the EmailOps runbook describes its `data/` directory.

    HOME/data/emailops.db               the SQLite index (INDEX_DB_URL=sqlite:////data/emailops.db)
    HOME/data/emailops-backup.db        `sqlite3 data/emailops.db ".backup data/emailops-backup.db"`
    HOME/data/logs/app.log[.YYYY-MM-DD] structured JSON logs, rotated daily (ts, level, logger, message, ...)
    HOME/data/state/, HOME/data/cache/  STATE_DIR and CACHE_DIR
    HOME/backups/backup-YYYYMMDD.tar.gz `tar czf backup-$(date +%Y%m%d).tar.gz data/`, one a day, + .sha256
    HOME/backups/emailops-YYYYMMDD.db   a daily copy of the SQLite index, + .sha256

Timestamps are relative to `now`, so freshness checks (newest backup younger than 26 h, no ERROR in the
last 24 h) pass on every run; one ERROR line sits in an older rotated log to show time windows at work.
`build(..., failure=...)` lays out one of the failure states of `opsverify demo --unhealthy` instead.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import sqlite3
import tarfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

BACKUP_DAYS = 3  # backups kept in the demo's backups folder (newest first: today, yesterday, ...)
LOG_DAYS = 3  # app.log plus two rotated days
MESSAGES = 240  # rows of the `messages` table
SCHEMA_VERSION = "0007"
STALE_BACKUP_DAYS = 2  # --unhealthy stale-backup: the index backup job stopped this many days ago
ERROR_BURST = 12  # --unhealthy error-burst: ERROR lines the mail sender logged in the last hour


@dataclass(frozen=True)
class Failure:
    """A failure state of the demo deployment (`opsverify demo --unhealthy NAME`) and the check it fails."""

    name: str
    what: str
    check: str  # the one check of targets/demo.yaml this state fails


FAILURES = {
    failure.name: failure
    for failure in (
        Failure(
            "healthcheck",
            "the healthcheck answers 503 (IMAP login failed: authentication rejected)",
            "http:healthcheck",
        ),
        Failure(
            "stale-backup",
            f"the nightly .backup of the index stopped {STALE_BACKUP_DAYS} days ago",
            "backups:index-backup",
        ),
        Failure(
            "error-burst",
            f"the mail sender logged {ERROR_BURST} ERROR lines (SMTP connection refused) in the last hour",
            "logs:app-errors",
        ),
    )
}

SCHEMA = """
create table schema_version (version text not null, applied_at text not null);
create table accounts (
    id integer primary key, address text not null unique, imap_host text not null, smtp_host text not null
);
create table folders (
    id integer primary key, account_id integer not null references accounts(id), name text not null,
    last_uid integer not null default 0, synced_at text
);
create table threads (id integer primary key, subject text not null, last_message_at text not null);
create table messages (
    id integer primary key, folder_id integer not null references folders(id),
    thread_id integer not null references threads(id), message_id text not null unique,
    sender text not null, subject text not null, received_at text not null, indexed_at text not null
);
create table attachments (
    id integer primary key, message_id integer not null references messages(id),
    filename text not null, size_bytes integer not null
);
create table jobs (
    id integer primary key, kind text not null, status text not null, created_at text not null,
    finished_at text
);
create index messages_received_at on messages(received_at);
"""


@dataclass(frozen=True)
class DemoLayout:
    """Where the demo deployment keeps its files (all below `home`)."""

    home: Path

    @property
    def data(self) -> Path:
        return self.home / "data"

    @property
    def database(self) -> Path:
        return self.data / "emailops.db"

    @property
    def logs(self) -> Path:
        return self.data / "logs"

    @property
    def log_file(self) -> Path:
        return self.logs / "app.log"

    @property
    def backups(self) -> Path:
        return self.home / "backups"

    @property
    def env_file(self) -> Path:
        return self.home / "demo.env"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def build(home: Path, now: datetime | None = None, failure: str | None = None) -> DemoLayout:
    """Create the demo's data directory, logs and backups below `home` (which must not exist yet).

    `failure` names a state of FAILURES: `stale-backup` and `error-burst` are in the files laid out here
    (`healthcheck` is the service's: see DemoServer).
    """
    if failure is not None and failure not in FAILURES:
        raise ValueError(f"unknown demo failure {failure!r}; choose one of {', '.join(FAILURES)}")
    now = now or datetime.now(UTC)
    layout = DemoLayout(home)
    for folder in (layout.logs, layout.data / "state", layout.data / "cache", layout.backups):
        folder.mkdir(parents=True, exist_ok=True)
    write_database(layout.database, now)
    write_logs(layout, now, error_burst=failure == "error-burst")
    backup_database(layout.database, layout.data / "emailops-backup.db")
    write_backups(layout, now, index_stopped_days=STALE_BACKUP_DAYS if failure == "stale-backup" else 0)
    return layout


def write_database(path: Path, now: datetime) -> None:
    """The EmailOps index: accounts, IMAP folders, threads, messages, attachments, background jobs."""
    rng = random.Random(2)  # noqa: S311 - reproducible demo data, not security
    connection = sqlite3.connect(path)
    try:
        with connection:
            connection.executescript(SCHEMA)
            connection.execute("insert into schema_version values (?, ?)", (SCHEMA_VERSION, iso(now)))
            connection.execute(
                "insert into accounts values (1, 'ops@example.com', 'imap.example.com', 'smtp.example.com')"
            )
            for folder_id, name in enumerate(("INBOX", "Sent", "Archive"), start=1):
                synced = iso(now - timedelta(minutes=5 * folder_id))
                connection.execute(
                    "insert into folders values (?, 1, ?, ?, ?)", (folder_id, name, 1000 * folder_id, synced)
                )
            for thread_id in range(1, MESSAGES // 4 + 1):
                connection.execute(
                    "insert into threads values (?, ?, ?)",
                    (thread_id, f"Ticket #{4000 + thread_id}", iso(now)),
                )
            for number in range(1, MESSAGES + 1):
                received = now - timedelta(minutes=number * 17)
                connection.execute(
                    "insert into messages values (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        number,
                        rng.randint(1, 3),
                        (number - 1) // 4 + 1,
                        f"<{number}.demo@example.com>",
                        f"customer{rng.randint(1, 40)}@example.org",
                        f"Re: Ticket #{4000 + (number - 1) // 4 + 1}",
                        iso(received),
                        iso(received + timedelta(seconds=30)),
                    ),
                )
                if number % 6 == 0:
                    connection.execute(
                        "insert into attachments (message_id, filename, size_bytes) values (?, ?, ?)",
                        (number, f"invoice-{number}.pdf", rng.randint(20_000, 400_000)),
                    )
            for number in range(1, 13):
                created = now - timedelta(hours=number * 2)
                connection.execute(
                    "insert into jobs (kind, status, created_at, finished_at) values (?, 'done', ?, ?)",
                    (
                        "imap-sync" if number % 2 else "reindex",
                        iso(created),
                        iso(created + timedelta(minutes=1)),
                    ),
                )
    finally:
        connection.close()


def backup_database(source: Path, destination: Path) -> None:
    """The runbook's `sqlite3 data/emailops.db ".backup ..."`: a consistent online copy."""
    origin, copy = sqlite3.connect(source), sqlite3.connect(destination)
    try:
        origin.backup(copy)
    finally:
        copy.close()
        origin.close()


def log_line(moment: datetime, level: str, logger: str, message: str, **extra: object) -> str:
    record = {"ts": iso(moment), "level": level, "logger": logger, "message": message, "pid": 4242}
    record.update({"thread": "MainThread", **extra})
    return json.dumps(record)


def write_logs(layout: DemoLayout, now: datetime, error_burst: bool = False) -> None:
    """app.log for today plus rotated files (TimedRotatingFileHandler names) with their mtimes.

    `error_burst`: app.log also holds ERROR_BURST failed SMTP sends from the last hour (a background job,
    so the HTTP request metrics do not see them).
    """
    for day in range(LOG_DAYS):
        end = now - timedelta(days=day)
        lines = []
        for minute in range(0, 24 * 60, 30):
            moment = end - timedelta(minutes=24 * 60 - minute)
            request = f"req-{day}{minute:04d}"
            lines.append(
                log_line(
                    moment,
                    "INFO",
                    "emailops.sync",
                    "imap sync finished",
                    component="imap",
                    request_id=request,
                )
            )
            if minute % 180 == 0:
                lines.append(
                    log_line(
                        moment, "WARNING", "emailops.llm", "slow completion", component="llm", seconds=6.2
                    )
                )
        if day == LOG_DAYS - 1:
            lines.append(
                log_line(
                    end - timedelta(hours=3),
                    "ERROR",
                    "emailops.smtp",
                    "smtp send failed: connection timed out",
                    component="smtp",
                    error_type="TimeoutError",
                )
            )
        if day == 0 and error_burst:
            lines += [
                log_line(
                    now - timedelta(minutes=20, seconds=30 * (ERROR_BURST - number)),
                    "ERROR",
                    "emailops.smtp",
                    "smtp send failed: connection refused by smtp.example.com:587",
                    component="smtp",
                    error_type="ConnectionRefusedError",
                    request_id=f"job-{number:04d}",
                )
                for number in range(ERROR_BURST)
            ]
        name = "app.log" if day == 0 else f"app.log.{(now - timedelta(days=day)).strftime('%Y-%m-%d')}"
        path = layout.logs / name
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        stamp = end.timestamp() if day else now.timestamp()
        os.utime(path, (stamp, stamp))


def write_backups(layout: DemoLayout, now: datetime, index_stopped_days: int = 0) -> None:
    """One `backup-YYYYMMDD.tar.gz` of data/ and one SQLite copy a day, each with a .sha256 file.

    `index_stopped_days`: the SQLite copies stopped that many days ago (the newest is that old); the
    tar archives go on.
    """
    for day in range(BACKUP_DAYS):
        moment = now - timedelta(days=day, minutes=10)
        archive = layout.backups / f"backup-{moment.strftime('%Y%m%d')}.tar.gz"
        archive.write_bytes(tar_of(layout.data, layout.home))
        stamp_files(archive, moment)
        copied = moment - timedelta(days=index_stopped_days)
        copy = layout.backups / f"emailops-{copied.strftime('%Y%m%d')}.db"
        backup_database(layout.database, copy)
        stamp_files(copy, copied)


def stamp_files(path: Path, moment: datetime) -> None:
    """Write `path`'s .sha256 file and date both to `moment`."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    checksum = path.with_name(path.name + ".sha256")
    checksum.write_text(f"{digest}  {path.name}\n", encoding="utf-8")
    for file in (path, checksum):
        os.utime(file, (moment.timestamp(), moment.timestamp()))


def tar_of(folder: Path, root: Path) -> bytes:
    """`tar czf - data/` run from `root`: member names start with `data/`."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        archive.add(folder, arcname=str(folder.relative_to(root)))
    return buffer.getvalue()
