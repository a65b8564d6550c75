"""BIMCalc (guide 000): the PostgreSQL database behind a stoppable proxy, the `web` service's log (what
`docker-compose logs web` shows), backup.sh's gzipped pg_dumps in ./backups and its cron log."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.docker_engine import DockerEngine
from tests.seeds.replicas.base import Replica
from tests.seeds.replicas.containers import ComposeStack, unique_project
from tests.seeds.replicas.database import PostgresDatabase, corrupt, with_database
from tests.seeds.replicas.receivers import SMTP_PASSWORD, SMTP_USER, Receivers
from tests.seeds.replicas.tcp_proxy import TcpProxy
from tests.seeds.replicas.telemetry import LogFile, utc

# The guide names no tables; these are the things its alerts talk about (uploads, items and their risk
# score, QA checklists).
SCHEMA = """
create table projects (id serial primary key, name text not null);
create table price_books (id serial primary key, project_id int references projects(id),
  uploaded_at timestamptz not null default now(), status text not null);
create table items (id serial primary key, project_id int references projects(id), code text not null,
  risk_score numeric(4, 2) not null default 0, created_at timestamptz not null default now());
create table qa_checklists (id serial primary key, project_id int references projects(id),
  completed_at timestamptz);
insert into projects (name) values ('Hospital wing'), ('School annex');
insert into price_books (project_id, status) values (1, 'ingested'), (2, 'ingested');
insert into items (project_id, code, risk_score, created_at)
  select 1 + n % 2, 'ITEM-' || n, (n % 60) / 100.0, now() - n * interval '5 minutes'
  from generate_series(1, 200) n;
"""

LOG_FORMAT = "{ts} {level:<7} [bimcalc.{logger}] {message}"


class BIMCalc(Replica):
    name = "bimcalc"
    backup_states = frozenset({"backup_failed", "broken_backup"})

    def __init__(self, root: Path, admin_pg_url: str, engine: DockerEngine) -> None:
        super().__init__(root)
        self.stack = ComposeStack(engine, unique_project("bimcalc"), ["web", "db"], healthchecked=[])
        self.on_stop(self.stack.down)
        self.db = PostgresDatabase(admin_pg_url, "seed_bimcalc", SCHEMA)
        self.on_stop(self.db.drop)
        self.proxy = TcpProxy(("127.0.0.1", 5432))
        self.on_stop(self.proxy.down)
        self.backup_dir = root / "bimcalc/backups"
        self.web_log = LogFile(root / "logs/web.log")
        self.backup_log = LogFile(self.backup_dir / "backup.log")
        self.receivers = Receivers()
        self.on_stop(self.receivers.stop)
        self.env = {
            "DATABASE_URL": with_database(admin_pg_url, self.db.name, port=self.proxy.port),
            "BACKUP_DIR": str(self.backup_dir),
            "WEB_LOG_PATH": str(self.web_log.path),
            "COMPOSE_PROJECT": self.stack.project,
            "DOCKER_HOST": engine.base_url,
            "DRILL_ADMIN_URL": admin_pg_url,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.receivers.smtp_port),
            "SMTP_STARTTLS": "false",
            "SMTP_USER": SMTP_USER,
            "SMTP_PASSWORD": SMTP_PASSWORD,
            "SMTP_FROM": "noreply@bimcalc.com",
            "ADMIN_EMAIL": "admin@bimcalc.test",
            "SLACK_WEBHOOK_URL": self.receivers.hook_url("slack"),
        }
        self.healthy()

    def log(self, minutes_ago: float, level: str, logger: str, message: str) -> None:
        ts = utc(minutes_ago).strftime("%Y-%m-%d %H:%M:%S,%f")[:-3]
        self.web_log.write_text(LOG_FORMAT.format(ts=ts, level=level, logger=logger, message=message))

    def reset(self) -> None:
        self.stack.reset()
        self.proxy.up()
        self.db.execute("update items set risk_score = least(risk_score, 0.59)")
        self.web_log.reset()
        for minute in range(0, 24 * 60, 90):
            self.log(minute, "INFO", "web", "GET /projects/1/items 200 in 38ms")
        self.log(45, "INFO", "ingest", "Price book upload ingested: 412 rows (pricebook_2026Q1.xlsx)")
        self.log(30, "WARNING", "alerts", "risk threshold 0.8 reached by 0 items")
        # an error from three days ago: outside the daily window
        self.log(3 * 24 * 60, "ERROR", "web", "Traceback (most recent call last): KeyError: 'unit'")

    def reset_backups(self) -> None:
        for old in self.backup_dir.glob("bimcalc_backup_*"):
            old.unlink()
        self.backup_log.reset()
        self.make_backup(hours_ago=26 + 1.5)
        self.make_backup(hours_ago=1.5)

    def make_backup(self, hours_ago: float) -> Path:
        """backup.sh: a timestamped, gzipped dump in ./backups, and a line in backups/backup.log."""
        moment = utc(hours_ago * 60)
        path = self.db.dump(
            self.backup_dir / f"bimcalc_backup_{moment:%Y%m%d_%H%M%S}.sql.gz",
            compress=True,
            age_hours=hours_ago,
        )
        self.backup_log.write_text(f"[{moment:%Y-%m-%d %H:%M:%S}] Backup created: {path.name}")
        return path

    def failure_states(self) -> dict[str, Callable[[], None]]:
        return {
            "database_down": self.proxy.down,
            "ingestion_failed": self.ingestion_failed,
            "high_risk_item": self.high_risk_item,
            "alerts_not_sent": self.alerts_not_sent,
            "backup_failed": self.backup_failed,
            "broken_backup": self.broken_backup,
            "web_container_down": lambda: self.stack.stop("web"),
        }

    def ingestion_failed(self) -> None:
        self.log(
            12,
            "ERROR",
            "ingest",
            "Ingestion failed for schedule upload 'schedule_rev7.csv': "
            "[Errno 13] Permission denied: '/tmp/bimcalc-upload-7f3a.csv'",
        )

    def high_risk_item(self) -> None:
        self.db.execute("update items set risk_score = 0.93 where code = 'ITEM-17'")

    def alerts_not_sent(self) -> None:
        self.log(
            8, "ERROR", "alerts", "Failed to send email: (535, b'5.7.8 Username and Password not accepted')"
        )
        self.log(8, "ERROR", "alerts", "Slack notification failed: 404 no_service")

    def backup_failed(self) -> None:
        """The 2 AM cron job failed: no new dump, an error in backup.log."""
        newest = max(self.backup_dir.glob("bimcalc_backup_*.sql.gz"))
        newest.unlink()
        moment = utc(90)
        self.backup_log.write_text(
            f"[{moment:%Y-%m-%d %H:%M:%S}] ERROR: pg_dump: error: connection to server failed: "
            'could not translate host name "db"'
        )

    def broken_backup(self) -> None:
        corrupt(max(self.backup_dir.glob("bimcalc_backup_*.sql.gz")))
