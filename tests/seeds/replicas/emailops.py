"""EmailOps (guide 002): the SQLite index (INDEX_DB_URL sqlite:////data/emailops.db), the JSON app log
in /data/logs (rotated daily, 7 days kept), `tar czf backup-YYYYMMDD.tar.gz data/` archives and the
`sqlite3 .backup` copy of the index."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from tests.docker_engine import DockerEngine
from tests.seeds.replicas.base import Replica
from tests.seeds.replicas.containers import ComposeStack, unique_project
from tests.seeds.replicas.database import age, corrupt, sqlite_backup, sqlite_database, tar_backup
from tests.seeds.replicas.receivers import SMTP_PASSWORD, SMTP_USER, Receivers
from tests.seeds.replicas.telemetry import LogFile, iso, utc

# The guide names no tables: an e-mail index keeps messages and threads.
SCHEMA = """
create table threads (id integer primary key, subject text not null, updated_at text not null);
create table messages (id integer primary key, thread_id integer references threads(id),
  sender text not null, received_at text not null, body text not null);
create index idx_messages_thread on messages(thread_id, received_at);
"""


class EmailOps(Replica):
    name = "emailops"
    backup_states = frozenset({"stale_backup", "broken_backup"})

    def __init__(self, root: Path, engine: DockerEngine) -> None:
        super().__init__(root)
        self.stack = ComposeStack(engine, unique_project("emailops"), ["app"], healthchecked=["app"])
        self.on_stop(self.stack.down)
        self.project = root / "emailops"
        self.data = self.project / "data"
        self.index = self.data / "emailops.db"
        self.index_backup = self.data / "emailops-backup.db"
        self.app_log = LogFile(self.data / "logs/app.log")
        self.receivers = Receivers()
        self.on_stop(self.receivers.stop)
        self.env = {
            "EMAILOPS_DIR": str(self.project),
            "DATA_DIR": str(self.data),
            "EMAIL_SMTP_HOST": "127.0.0.1",
            "EMAIL_SMTP_PORT": str(self.receivers.smtp_port),
            "SMTP_STARTTLS": "false",
            "EMAIL_USERNAME": SMTP_USER,
            "EMAIL_PASSWORD": SMTP_PASSWORD,
            "SUPPORT_EMAIL": "support@emailops.test",
            "COMPOSE_PROJECT": self.stack.project,
            "DOCKER_HOST": engine.base_url,
        }
        self.healthy()

    def reset(self) -> None:
        self.stack.reset()
        self.index.unlink(missing_ok=True)
        sqlite_database(self.index, SCHEMA)
        with closing(sqlite3.connect(self.index)) as conn:
            conn.executemany(
                "insert into threads (id, subject, updated_at) values (?, ?, ?)",
                [(n, f"RFQ #{n}", iso(utc(n))) for n in range(1, 41)],
            )
            conn.executemany(
                "insert into messages (thread_id, sender, received_at, body) values (?, ?, ?, ?)",
                [(1 + n % 40, f"user{n}@example.com", iso(utc(n)), "x" * 400) for n in range(400)],
            )
            conn.commit()
        self.app_log.reset()
        for minute in range(0, 20 * 60, 20):
            self.app_log.write_json(
                {
                    "ts": iso(utc(minute), millis=True),
                    "level": "INFO",
                    "logger": "emailops.sync",
                    "message": "mailbox synced",
                    "pid": 7,
                    "thread": "MainThread",
                    "component": "imap",
                    "request_id": f"sync-{minute}",
                }
            )
        for day in range(1, 7):  # the rotated files logrotate keeps (7-day retention)
            rotated = self.app_log.write_rotated(
                [f'{{"ts": "{iso(utc(day * 1440))}", "level": "ERROR", "message": "imap timeout"}}'],
                suffix=f".{day}.gz",
            )
            age(rotated, day * 24)

    def reset_backups(self) -> None:
        for old in self.project.glob("backup-*.tar.gz"):
            old.unlink()
        sqlite_backup(self.index, self.index_backup, age_hours=24 * 3)
        self.make_archive(days_ago=3)

    def make_archive(self, days_ago: float) -> Path:
        """`tar czf backup-$(date +%Y%m%d).tar.gz data/` run in the project folder."""
        stamp = utc(days_ago * 1440).strftime("%Y%m%d")
        return tar_backup(self.data, self.project / f"backup-{stamp}.tar.gz", age_hours=days_ago * 24)

    def failure_states(self) -> dict[str, Callable[[], None]]:
        return {
            "application_errors": self.application_errors,
            "corrupted_index": self.corrupted_index,
            "stale_backup": self.stale_backup,
            "broken_backup": self.broken_backup,
            "old_logs_kept": self.old_logs_kept,
            "container_unhealthy": lambda: self.stack.unhealthy("app"),
        }

    def application_errors(self) -> None:
        for n in range(4):
            self.app_log.write_json(
                {
                    "ts": iso(utc(3 + n), millis=True),
                    "level": "ERROR",
                    "logger": "emailops.llm",
                    "message": "LLM request failed: 503 Service Unavailable",
                    "component": "llm",
                    "request_id": f"draft-{n}",
                }
            )

    def corrupted_index(self) -> None:
        """Scribble over the middle of the index: PRAGMA integrity_check reports it malformed."""
        data = bytearray(self.index.read_bytes())
        page = 4096
        for offset in range(page * 2, min(len(data), page * 6), 7):
            data[offset] = 0xA5
        self.index.write_bytes(bytes(data))

    def stale_backup(self) -> None:
        for old in self.project.glob("backup-*.tar.gz"):
            old.unlink()
        self.make_archive(days_ago=45)
        age(self.index_backup, 45 * 24)

    def broken_backup(self) -> None:
        corrupt(self.index_backup)

    def old_logs_kept(self) -> None:
        """Rotation stopped: files older than the 7-day retention are still there."""
        for day in (9, 12, 20):
            old = self.app_log.write_rotated(
                [f'{{"ts": "{iso(utc(day * 1440))}", "level": "INFO", "message": "sync"}}'],
                suffix=f".{day}.gz",
            )
            age(old, day * 24)
